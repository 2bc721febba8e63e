import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { freshOnlineFleet, LIVENESS_LIMITS } from "../agents/onlineFleet.ts"
import { registerGatewayAndBoard, startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { mixFleetProblems } from "../inspect/fleetProblems.ts"
import { CHROMIUM, CHROMIUM_ARGS, countsDrawnAt, hasChromium, openInspector, searchInPage } from "../inspect/inspectorPage.ts"

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test-artifacts")
const FLEET = 10_000
/** A long check-in timeout keeps created agents in provisioning.awaiting until a test heartbeats. */
const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 300_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 50, ...LIVENESS_LIMITS }

if (!hasChromium) console.warn(`fleetView.browser.test: SKIPPED, ${CHROMIUM} is missing (install it with \`bash scripts/install-chromium.sh\`; CI does)`)

/**
 * The fleet view at `/inspect` in headless Chromium over 10,000 agents cloned from one persisted
 * online agent (`seedOnlineFleet`) on an unreachable gateway `Fleet`, whose read model is then
 * set, by SQL, to a mix of problems: 20 `provisioning.failed` and 30 `updating.retrying` (both
 * with a last error, changed half an hour ago), 150 `offline` with reasons, 12 offline missing on
 * the gateway and 8 with a heartbeat mismatch, 15 online with a drifted workspace; 3,000 of them
 * are on a second board. A simulated gateway `sim` hosts the agents the tests create (each test its own).
 * Timings are taken in the page with `performance.now()` and printed; their assertions are
 * generous (the machine is shared), the bars are in the messages.
 */
describe.skipIf(!hasChromium)("the fleet view (/inspect) over 10,000 agents in headless Chromium", () => {
  let fleet: Awaited<ReturnType<typeof freshOnlineFleet>>
  let simulator: GatewaySimulator
  let service: InProcessService
  let context: BrowserContext
  let profile: string
  let simGatewayId: string
  let simBoardId: string
  const pageErrors: Array<string> = []

  beforeAll(async () => {
    fleet = await freshOnlineFleet(FLEET, policy)
    simulator = await startGatewaySimulator()
    service = await startInProcessService(fleet.url, policy)
    ;({ gatewayId: simGatewayId, boardId: simBoardId } = await registerGatewayAndBoard(service, simulator, "sim"))
    const night = await service.api("POST", "/api/v1/boards", { name: "Night shift", gateway_id: fleet.gatewayId })
    expect(night.status).toBe(201)
    await mixFleetProblems(fleet.url, fleet.gatewayId, {
      failed: 20,
      retrying: 30,
      offline: 150,
      gatewayMissing: 12,
      heartbeatMismatch: 8,
      drifted: 15,
      secondBoard: { boardId: night.body.id, count: 3_000 }
    })
    // One finished template sync (of the empty `sim` board) for the jobs panel.
    const sync = await service.api("POST", `/api/v1/gateways/${simGatewayId}/templates/sync?include_main=false&board_id=${simBoardId}`)
    expect(sync.status).toBe(202)
    profile = mkdtempSync(path.join(tmpdir(), "sy-chromium-"))
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1680, height: 940 } })
    mkdirSync(ARTIFACTS, { recursive: true })
  }, 300_000)

  afterAll(async () => {
    await context?.close()
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
    await service?.stop()
    await simulator?.stop()
    await fleet?.drop()
  })

  /** A fresh tab on the fleet view, signed in; resolves once the counts are drawn. */
  const openFleet = async (): Promise<Page> => {
    const page = await openInspector(context, service.url, "/inspect", pageErrors)
    await page.waitForSelector("body[data-counts-drawn]", { timeout: 20_000 })
    return page
  }
  /** The count the state's button shows (0 when the state has none). */
  const countOf = async (page: Page, state: string) => Number((await page.getAttribute(`#fleet-counts button[data-state="${state}"]`, "data-count", { timeout: 500 }).catch(() => null)) ?? 0)
  const shot = async (page: Page, name: string) => {
    const file = path.join(ARTIFACTS, name)
    await page.screenshot({ path: file })
    console.log(`[fleetView] screenshot: ${file}`)
  }
  /** An agent on the simulated gateway, waiting for its check-in. */
  const createAwaiting = async (name: string) => {
    const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name, board_id: simBoardId })
    expect(created.status).toBe(201)
    return created.body as { id: string; gateway_agent_id: string }
  }
  /** An agent whose provisioning the gateway refuses for good: `provisioning.failed`. */
  const createFailed = async (name: string) => {
    simulator.inject({ method: "agents.create", error: { code: "INVALID_REQUEST", message: `agents.create refused (${name})`, retryable: false }, times: 1 })
    const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.failed&timeout_ms=30000", { name, board_id: simBoardId })
    expect(created.status).toBe(201)
    expect(created.body.state).toBe("provisioning.failed")
    return created.body as { id: string }
  }

  it("shows the fleet's counts by state, gateway and board within 2 s, with the problems and the sync jobs", async () => {
    const page = await openInspector(context, service.url, "/inspect", pageErrors)
    const countsAt = await countsDrawnAt(page)
    console.log(`[fleetView] counts drawn ${countsAt.toFixed(0)} ms after navigation (${FLEET.toLocaleString("en")} agents; issue bar 2,000 ms)`)
    expect(countsAt, "counts within 2 s (asserted at 3x for a loaded machine)").toBeLessThan(6_000)

    const summary = (await service.api("GET", "/api/v1/fleet/summary")).body as { total: number; by_state: Record<string, number> }
    expect(summary.total).toBeGreaterThanOrEqual(FLEET)
    expect(await page.getAttribute('#fleet-counts button[data-state=""]', "data-count")).toBe(String(summary.total))
    for (const state of ["online", "offline", "provisioning.failed", "updating.retrying"]) expect(await countOf(page, state), state).toBe(summary.by_state[state])
    // Per gateway and per board: Fleet's row holds its 10,000; the night shift board its 3,000.
    await expect.poll(() => page.locator("#gateway-table tr", { hasText: "Fleet" }).locator("td").nth(1).textContent()).toBe(FLEET.toLocaleString("en"))
    await expect.poll(() => page.locator("#board-table tr", { hasText: "Night shift" }).locator("td").nth(1).textContent()).toBe("3,000")
    // Problems: the unreachable gateway, then failed (with the error) before retrying and offline.
    await expect.poll(() => page.locator("#gateway-problems li", { hasText: "Fleet" }).textContent(), { timeout: 20_000 }).toContain("unreachable")
    await expect.poll(() => page.locator("#problem-list li.problem").count(), { timeout: 10_000 }).toBeGreaterThan(20)
    const kinds = await page.locator("#problem-list li.problem-kind strong").allTextContents()
    expect(kinds).toEqual(["failed", "retrying", "stuck", "missing on gateway", "heartbeat mismatch", "offline", "workspace drift"])
    expect(await page.locator("#problem-list li.problem").first().getAttribute("data-kind")).toBe("failed")
    expect(await page.locator("#problem-list li.problem--retrying .detail").first().textContent()).toContain("UNAVAILABLE")
    // One runner (a single process): no runner column.
    expect(await page.getAttribute("body", "class")).toContain("no-cluster")
    expect(await page.locator("#agent-list .agent-row .runner").first().isVisible()).toBe(false)
    // The finished sync job of the sim board.
    await expect.poll(() => page.locator("#sync-jobs .sync-job").first().getAttribute("class")).toContain("sync-job--done")
    // Virtualised: a handful of rows drawn for 10,000 agents, more loaded on scroll.
    expect(await page.locator("#agent-list .agent-row").count()).toBeLessThan(100)
    await page.locator("#agent-list").evaluate((element) => (element.scrollTop = 26 * 1_000))
    await expect.poll(() => page.locator('#agent-list .agent-row[data-index="1010"] .name').textContent(), { timeout: 10_000 }).toMatch(/^Agent \d+$/)
    await page.locator("#agent-list").evaluate((element) => (element.scrollTop = 0))
    await shot(page, "fleet-view.png")
    expect(pageErrors).toEqual([])
    await page.close()
  })

  it("agents missing on their gateway, with a heartbeat mismatch or a drifted workspace are problems of their own, listed by the problem filter", async () => {
    const page = await openFleet()
    await expect.poll(() => page.locator("#problem-list li.problem--gateway_missing").count(), { timeout: 10_000 }).toBeGreaterThan(0)
    const heading = (kind: string) => page.locator(`#problem-list li.problem-kind.problem--${kind}`)
    expect(await heading("gateway_missing").textContent()).toContain("missing on gateway 12")
    expect(await heading("heartbeat_mismatch").textContent()).toContain("heartbeat mismatch 8")
    expect(await heading("drifted").textContent()).toContain("workspace drift 15")
    // The offline count holds them all; each agent is listed once, under its cause.
    expect(await heading("offline").textContent()).toContain("offline 170")
    expect(await page.locator("#problem-list li.problem--gateway_missing .detail").first().textContent()).toContain("missing from agents.list")
    expect(await page.locator("#problem-list li.problem--heartbeat_mismatch .detail").first().textContent()).toContain("heartbeat disabled")
    expect(await page.locator("#problem-list li.problem--drifted .detail").first().textContent()).toContain("SOUL.md differ")
    const ids = await page.locator("#problem-list li.problem").evaluateAll((items) => items.map((item) => item.getAttribute("data-agent-id")))
    expect(new Set(ids).size).toBe(ids.length)
    // "list all" fills the agent list with that kind, from the server.
    await heading("gateway_missing").locator("button").click()
    await expect.poll(() => page.textContent("#agent-count")).toBe("12 agents")
    expect(await page.inputValue("#filter-problem")).toBe("gateway_missing")
    expect(new Set(await page.locator("#agent-list .agent-row .problem").allTextContents())).toEqual(new Set(["missing on gateway"]))
    await page.selectOption("#filter-problem", "drifted")
    await expect.poll(() => page.textContent("#agent-count")).toBe("15 agents")
    await shot(page, "fleet-causes.png")
    expect(pageErrors).toEqual([])
    await page.close()
  })

  it("in a cluster, shows which runner owns each gateway (GET /api/v1/cluster)", async () => {
    // This server runs alone (no /cluster): the browser is given the cluster contract's answer.
    const clustered = await openInspector(context, service.url, "/inspect", pageErrors, async (tab) => {
      await tab.route("**/api/v1/cluster", (route) =>
        route.fulfill({
          json: {
            self: "10.0.0.1:7001",
            runners: [
              { address: "10.0.0.1:7001", healthy: true, shards: [1, 2] },
              { address: "10.0.0.2:7001", healthy: false, shards: [3] }
            ],
            gateways: [
              { gateway_id: fleet.gatewayId, runner: "10.0.0.1:7001" },
              { gateway_id: simGatewayId, runner: "10.0.0.2:7001" }
            ]
          }
        })
      )
    })
    await countsDrawnAt(clustered)
    await expect.poll(() => clustered.locator("#gateway-table tr", { hasText: "Fleet" }).locator("td.runner").textContent()).toBe("10.0.0.1:7001")
    expect(await clustered.locator("#gateway-table tr", { hasText: "sim" }).locator("td.runner").textContent()).toBe("10.0.0.2:7001 (unhealthy)")
    expect(await clustered.getAttribute("body", "class")).not.toContain("no-cluster")
    await expect.poll(() => clustered.locator("#agent-list .agent-row .runner").first().textContent()).toBe("10.0.0.1:7001")
    await shot(clustered, "fleet-cluster.png")
    expect(pageErrors).toEqual([])
    await clustered.close()
  })

  it("a gateway awaiting pairing is listed first, with the request to approve", async () => {
    // The simulator pairs at once: the browser is given the status contract's pairing answer for `sim`.
    const page = await openInspector(context, service.url, "/inspect", pageErrors, async (tab) => {
      await tab.route(`**/api/v1/gateways/${simGatewayId}/status`, (route) =>
        route.fulfill({
          json: {
            connected: false,
            gateway_url: "wss://sim.example:18789",
            server_version: null,
            protocol: null,
            version_checked: null,
            sessions_count: null,
            sessions: null,
            main_session: null,
            main_session_error: null,
            error: "pairing required",
            pairing: { request_id: "req-4711" }
          }
        })
      )
    })
    const pairing = page.locator(`#gateway-problems li[data-gateway-id="${simGatewayId}"]`)
    await expect.poll(() => pairing.textContent(), { timeout: 20_000 }).toContain("awaiting pairing: approve request req-4711")
    expect(await pairing.getAttribute("class")).toContain("gateway-problem--pairing")
    expect(pageErrors).toEqual([])
    await page.close()
  })

  it("a name search narrows the list within 300 ms", async () => {
    const page = await openFleet()
    await page.waitForSelector('#agent-list[data-status="ready"]')
    const tookMs = await page.evaluate<number>(searchInPage("Agent 4242", 1))
    console.log(`[fleetView] name search: typed to narrowed list ${tookMs.toFixed(0)} ms (120 ms debounce included; issue bar 300 ms)`)
    expect(tookMs, "search within 300 ms (asserted at 3x)").toBeLessThan(900)
    expect(await page.locator("#agent-list .agent-row .name").allTextContents()).toEqual(["Agent 4242"])
    expect(await page.textContent("#agent-count")).toBe("1 agent")
    await shot(page, "fleet-search.png")
    expect(pageErrors).toEqual([])
    await page.close()
  })

  it("a heartbeat that brings an agent online changes the counts without a reload", async () => {
    const agent = await createAwaiting("Ada")
    const page = await openFleet()
    await expect.poll(() => page.getAttribute("#live-status", "data-mode")).toBe("stream")
    const online = await countOf(page, "online")
    const awaiting = await countOf(page, "provisioning.awaiting")
    expect(awaiting).toBeGreaterThanOrEqual(1)
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true))

    const token = readAuthToken(simulator.state.files.get(agent.gateway_agent_id)?.get("AGENTS.md") ?? "")
    expect(token).toMatch(/^sy_/)
    const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token! } })
    expect(beat.status).toBe(200)

    await expect.poll(() => countOf(page, "online"), { timeout: 10_000 }).toBe(online + 1)
    expect(await countOf(page, "provisioning.awaiting")).toBe(awaiting - 1)
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true)
    await shot(page, "fleet-heartbeat.png")
    expect(pageErrors).toEqual([])
    await page.close()
  })

  it("a failed agent appears at the top of the problems list", async () => {
    const page = await openFleet()
    await expect.poll(() => page.getAttribute("#live-status", "data-mode")).toBe("stream")
    await expect.poll(() => page.locator("#problem-list li.problem").count(), { timeout: 10_000 }).toBeGreaterThan(0)
    const failedBefore = await countOf(page, "provisioning.failed")
    const doomed = await createFailed("Doomed")
    // Live, from the push stream: on top of the list, and counted.
    await expect.poll(() => page.locator("#problem-list li.problem").first().getAttribute("data-agent-id"), { timeout: 10_000 }).toBe(doomed.id)
    expect(await page.locator("#problem-list li.problem").first().textContent()).toContain("agents.create refused (Doomed)")
    await expect.poll(() => countOf(page, "provisioning.failed")).toBe(failedBefore + 1)
    await shot(page, "fleet-failed.png")
    expect(pageErrors).toEqual([])
    await page.close()
  })

  it("clicking a failed agent in the problems list opens its statechart", async () => {
    const lost = await createFailed("Lost")
    const page = await openFleet()
    const top = page.locator("#problem-list li.problem").first()
    await expect.poll(() => top.getAttribute("data-agent-id"), { timeout: 10_000 }).toBe(lost.id)
    await top.locator("a.name").click()
    await expect.poll(() => page.locator("svg.statechart g.state.active").getAttribute("data-state", { timeout: 1_000 }).catch(() => null), { timeout: 30_000 }).toBe(
      "provisioning.failed"
    )
    expect(page.url()).toContain(`#agent=${lost.id}`)
    expect(await page.textContent("#agent-state")).toBe("provisioning.failed")
    expect(await page.isEnabled('button[data-action="retry"]')).toBe(true)
    await shot(page, "fleet-agent.png")
    // Back to the fleet, one click.
    await page.click("#nav-fleet")
    await expect.poll(() => page.isVisible("#fleet-view")).toBe(true)
    expect(pageErrors).toEqual([])
    await page.close()
  })
})
