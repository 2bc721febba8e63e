/**
 * Fleet view: the latency over HTTP of `GET /api/v1/fleet/summary` and of the filtered, keyset
 * paged `GET /api/v1/agents` the page issues, at 10,000 and 100,000 agents (cloned rows, a mix
 * of problems set by SQL: 0.2% failed, 0.3% retrying, 1.5% offline, 0.1% missing on the gateway,
 * 0.1% with a heartbeat mismatch, 0.2% drifted; 30% on a second board), and 10 summaries asked at
 * once (coalesced into one read), then
 * the page itself in headless Chromium: when it first draws the counts (ms after navigation, the
 * `fleet:counts` mark) and how long a name search takes to narrow the list (`performance.now()`
 * in the page). The service runs in this process (its actors restored from the clones).
 *
 * Env: `FLEET_VIEW_SIZES` (default `10000,100000`), `FLEET_VIEW_RUNS` (requests per figure, default 15).
 */
import { chromium } from "playwright-core"
import { freshOnlineFleet, LIVENESS_LIMITS } from "../test/agents/onlineFleet.ts"
import { mixFleetProblems } from "../test/inspect/fleetProblems.ts"
import { CHROMIUM, CHROMIUM_ARGS, countsDrawnAt, hasChromium, openInspector, searchInPage } from "../test/inspect/inspectorPage.ts"
import { startInProcessService, type InProcessService } from "../test/support/inProcessService.ts"

const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS }

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Median round trip (ms) of an admin GET, answer read in full; fails on a non-200. */
const timed = async (service: InProcessService, route: string, runs: number) => {
  const times: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    const answer = await service.api("GET", route)
    times.push(performance.now() - started)
    if (answer.status !== 200) throw new Error(`${route}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`)
  }
  return median(times)
}

/** Median time (ms) until `count` summary requests sent at once are all answered: they share one read. */
const concurrentSummaries = async (service: InProcessService, count: number, runs: number) => {
  const times: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    const answers = await Promise.all(Array.from({ length: count }, () => service.api("GET", "/api/v1/fleet/summary")))
    times.push(performance.now() - started)
    if (answers.some((answer) => answer.status !== 200)) throw new Error("summary: not 200")
  }
  return median(times)
}

/** A keyset cursor near the end of the online agents, for a last-page read. */
const lateCursor = async (service: InProcessService) => {
  let after = ""
  let last = ""
  // Walk with the largest page; the figure is one page read, the walk only finds a late cursor.
  for (let page = 0; page < 1_000; page++) {
    const answer = await service.api("GET", `/api/v1/agents?status=online&limit=200&after=${after}`)
    if (answer.body.next === null) return last
    last = after
    after = answer.body.next as string
  }
  return after
}

const httpLatencies = async (service: InProcessService, runs: number) => {
  const late = await lateCursor(service)
  const routes: Record<string, string> = {
    summary: "/api/v1/fleet/summary",
    "first page (200)": "/api/v1/agents?limit=200&after=",
    "q=Agent 4242": "/api/v1/agents?q=Agent%204242&limit=200&after=",
    "q=gent 12 (many)": "/api/v1/agents?q=gent%2012&limit=200&after=",
    "problem=failed": "/api/v1/agents?problem=failed&limit=200&after=",
    "problem=retrying": "/api/v1/agents?problem=retrying&limit=200&after=",
    "problem=offline": "/api/v1/agents?problem=offline&limit=200&after=",
    "problem=stuck": "/api/v1/agents?problem=stuck&limit=200&after=",
    "problem=gateway_missing": "/api/v1/agents?problem=gateway_missing&limit=200&after=",
    "problem=heartbeat_mismatch": "/api/v1/agents?problem=heartbeat_mismatch&limit=200&after=",
    "problem=drifted": "/api/v1/agents?problem=drifted&limit=200&after=",
    "state=provisioning.failed": "/api/v1/agents?state=provisioning.failed&limit=200&after=",
    ...(late === "" ? {} : { "status=online, a late page": `/api/v1/agents?status=online&limit=200&after=${late}` })
  }
  const figures: Array<string> = []
  for (const [name, route] of Object.entries(routes)) figures.push(`${name} ${(await timed(service, route, runs)).toFixed(1)}`)
  figures.push(`10 summaries at once (all answered) ${(await concurrentSummaries(service, 10, runs)).toFixed(1)}`)
  return figures.join("; ")
}

/** First render and a name search in headless Chromium (medians of 3 fresh tabs). */
const pageFigures = async (service: InProcessService, size: number) => {
  // The last clone's name matches no other (`Agent 9999` at 10,000).
  const unique = `Agent ${size - 1}`
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
  try {
    const context = await browser.newContext({ viewport: { width: 1680, height: 940 } })
    const errors: Array<string> = []
    const counts: Array<number> = []
    const searches: Array<number> = []
    for (let i = 0; i < 3; i++) {
      const page = await openInspector(context, service.url, "/inspect", errors)
      counts.push(await countsDrawnAt(page))
      await page.waitForSelector('#agent-list[data-status="ready"]')
      searches.push(await page.evaluate<number>(searchInPage(unique, 1)))
      await page.close()
    }
    if (errors.length > 0) console.log(`    page errors: ${errors.join("; ")}`)
    return `first render (counts drawn, ms after navigation) ${median(counts).toFixed(0)} [${counts.map((ms) => ms.toFixed(0)).join(", ")}]; name search ("${unique}") to narrowed list ${median(searches).toFixed(0)} ms [${searches.map((ms) => ms.toFixed(0)).join(", ")}] (120 ms debounce included)`
  } finally {
    await browser.close()
  }
}

export const fleetView = async () => {
  const sizes = (process.env["FLEET_VIEW_SIZES"] ?? "10000,100000").split(",").map(Number)
  const runs = Number(process.env["FLEET_VIEW_RUNS"] ?? 15)
  console.log(`\nfleetView: HTTP medians of ${runs} (ms), then the page in headless Chromium`)
  for (const size of sizes) {
    const seeded = performance.now()
    const fleet = await freshOnlineFleet(size, policy)
    try {
      const started = performance.now()
      const service = await startInProcessService(fleet.url, policy)
      try {
        const night = await service.api("POST", "/api/v1/boards", { name: "Night shift", gateway_id: fleet.gatewayId })
        await mixFleetProblems(fleet.url, fleet.gatewayId, {
          failed: Math.round(size * 0.002),
          retrying: Math.round(size * 0.003),
          offline: Math.round(size * 0.015),
          gatewayMissing: Math.round(size * 0.001),
          heartbeatMismatch: Math.round(size * 0.001),
          drifted: Math.round(size * 0.002),
          secondBoard: { boardId: night.body.id as string, count: Math.round(size * 0.3) }
        })
        console.log(`  ${size.toLocaleString("en")} agents: cloned in ${(started - seeded).toFixed(0)} ms; service up and the problems set in ${(performance.now() - started).toFixed(0)} ms`)
        console.log(`    HTTP: ${await httpLatencies(service, runs)}`)
        console.log(`    page: ${hasChromium ? await pageFigures(service, size) : `skipped (${CHROMIUM} missing)`}`)
      } finally {
        await service.stop()
      }
    } finally {
      await fleet.drop()
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await fleetView()
