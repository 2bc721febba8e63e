/**
 * Template sync of 1,000 agents × 6 files against the simulator (5 ms a call). The service runs
 * as a process of its own (`src/main.ts`) and the simulator in this one, so the figure measures
 * the service, not one event loop shared by service, gateway and load. Prints: the time to
 * provision the agents (through `POST /agents`, 100 in flight), the time from
 * `POST /templates/sync` to the job's end (its `done` event on the job's event stream), its result counts, the gateway calls of the sync by
 * method (as the simulator saw them), the SQL statements the service sent (through a counting
 * proxy, `sqlCounter.ts`), the service's CPU time during the sync (from /proc, per
 * agent too, and both again above the settled service's idle rate, sampled before the sync), and
 * how busy the simulator's event loop was. `--concurrency N` sets
 * SWITCHYARD_SYNC_CONCURRENCY (default: the service's own default, 8); `--agents N` (default
 * 1,000). `--cpu-prof` restarts the service under Node's `--cpu-prof` before the sync and prints
 * where its CPU went, by package and the top functions. The sync starts once the fleet has settled
 * after provisioning (`settled`): the watcher's reconciliation of the burst (`agents.list`) would
 * otherwise overlap the sync and be counted as its cost.
 */
import { createParser } from "eventsource-parser"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { performance } from "node:perf_hooks"
import { createTestDatabase } from "../test/support/database.ts"
import { registerGatewayAndBoard, type InProcessService } from "../test/support/inProcessService.ts"
import { startService, type ServiceProcess } from "../test/support/serviceProcess.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { flag, pool } from "./common.ts"
import { cpuMs, profileSummary, profileTopFunctions } from "./processStats.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const AGENTS = flag("--agents", 1_000)
const IN_FLIGHT = 100
const CONCURRENCY = process.argv.includes("--concurrency") ? flag("--concurrency", 8) : undefined
const PROFILE = process.argv.includes("--cpu-prof")

const provision = async (service: ServiceProcess, gatewayId: string, boardId: string) => {
  await pool(AGENTS, IN_FLIGHT, async (i) => {
    const create = () => service.api("POST", "/api/v1/agents", { name: `bench-${i}`, board_id: boardId })
    // A kept-alive socket the server closed as it was reused fails the fetch: once more (409: the first went through).
    const created = await create().catch(create)
    if (created.status !== 201 && created.status !== 409) throw new Error(`agent ${i}: ${created.status} ${JSON.stringify(created.body)}`)
  })
  // Every agent has written its files and been woken once it waits for its check-in.
  for (;;) {
    const pages = await Promise.all(
      Array.from({ length: Math.ceil((AGENTS + 1) / 200) }, (_, page) => service.api("GET", `/api/v1/agents?gateway_id=${gatewayId}&limit=200&offset=${page * 200}`))
    )
    const states: string[] = pages.flatMap((answer) => answer.body.items.map((agent: { state: string }) => agent.state))
    if (states.length >= AGENTS && states.every((state) => state === "provisioning.awaiting")) return
    if (states.some((state) => state.endsWith("failed"))) throw new Error("an agent failed to provision")
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** How long the gateway must see no `agents.list` (the watcher's reconciliation) for the fleet to count as settled, ms. */
const QUIET_MS = 2_000
/** The longest the bench waits for the fleet to settle before syncing anyway, ms. */
const SETTLE_LIMIT_MS = 60_000

/** How long the settled service's idle CPU and statements are sampled before the sync, ms. */
const IDLE_SAMPLE_MS = 3_000

/**
 * Waits until the watcher has reconciled the provisioning burst: no `agents.list` call on the
 * simulator for `QUIET_MS` (at most `SETTLE_LIMIT_MS`). Output: the wait (ms), the `agents.list`
 * calls seen meanwhile, and whether it settled within the limit.
 */
const settled = async (simulator: { readonly calls: ReadonlyArray<{ readonly method: string; readonly at: number }> }) => {
  const started = Date.now()
  const listsBefore = simulator.calls.filter((call) => call.method === "agents.list").length
  for (;;) {
    const lists = simulator.calls.filter((call) => call.method === "agents.list")
    const lastAt = lists.length === 0 ? 0 : lists[lists.length - 1]!.at
    const quietFor = Date.now() - Math.max(lastAt, started)
    if (quietFor >= QUIET_MS || Date.now() - started >= SETTLE_LIMIT_MS) {
      return { waitedMs: Date.now() - started, lists: lists.length - listsBefore, settled: quietFor >= QUIET_MS }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Follows the job as a client does, on its event stream, and returns its result (the `done`
 * event's) the moment it comes: polling the report instead would read every agent's row each
 * time, and count that reading as sync time.
 */
const followJob = async (service: ServiceProcess, route: string): Promise<any> => {
  const response = await fetch(`${service.url}${route}`, { headers: { authorization: `Bearer ${service.adminToken}`, accept: "text/event-stream" } })
  if (response.status !== 200 || response.body === null) throw new Error(`sync events: ${response.status}`)
  let result: unknown
  const parser = createParser({
    onEvent: (message) => {
      const event = JSON.parse(message.data) as { type: string; result?: unknown }
      if (event.type === "done") result = event.result
    }
  })
  const decoder = new TextDecoder()
  for await (const chunk of response.body) {
    parser.feed(decoder.decode(chunk, { stream: true }))
    if (result !== undefined) break
  }
  if (result === undefined) throw new Error("the sync's event stream ended without its result")
  return result
}

/** A statement-counting proxy to Postgres (`sqlCounter.ts`) in a process of its own: its port, and the count so far. */
/**
 * Where an agent's time goes on the gateway, from the simulator's call log: the mean offset (ms)
 * of each of its methods from its first call, how long its calls span, and how many agents have
 * calls in progress on average (at most the sync's concurrency: less means the agents wait on
 * something else than their own calls). Shared calls (`config.get`, `health`) are counted apart.
 */
const callTimeline = (calls: ReadonlyArray<{ method: string; params: unknown; at: number }>) => {
  const agentOf = (params: any): string | undefined =>
    typeof params?.agentId === "string" ? params.agentId : typeof params?.name === "string" && params.workspace !== undefined ? params.name : /^agent:(.+):main$/.exec(params?.key ?? "")?.[1]
  const agents = new Map<string, Array<{ method: string; at: number }>>()
  for (const call of calls) {
    const agent = agentOf(call.params)
    if (agent === undefined) continue
    const mine = agents.get(agent) ?? []
    mine.push({ method: call.method, at: call.at })
    agents.set(agent, mine)
  }
  const offsets: Record<string, Array<number>> = {}
  const readsOf = (method: string) => calls.filter((call) => call.method === method).map((call) => call.at)
  const configReads = readsOf("config.get")
  const healthReads = readsOf("health")
  /** The first of `reads` at or after `at` (the shared read an agent's request went into, roughly). */
  const nextRead = (reads: ReadonlyArray<number>, at: number) => reads.find((read) => read >= at)
  let spanSum = 0
  for (const mine of agents.values()) {
    const first = mine[0]!.at
    for (const call of mine) (offsets[call.method] ??= []).push(call.at - first)
    const listed = mine.find((call) => call.method === "agents.files.list")?.at
    const config = listed === undefined ? undefined : nextRead(configReads, listed)
    const health = config === undefined ? undefined : nextRead(healthReads, config)
    if (config !== undefined) (offsets["(its config.get)"] ??= []).push(config - first)
    if (health !== undefined) (offsets["(its health)"] ??= []).push(health - first)
    spanSum += Math.max(mine[mine.length - 1]!.at, health ?? 0) - first
  }
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
  const whole = calls.length === 0 ? 0 : calls[calls.length - 1]!.at - calls[0]!.at
  const shared = calls.filter((call) => call.method === "config.get" || call.method === "health").map((call) => call.at)
  const gaps = shared.slice(1).map((at, i) => at - shared[i]!)
  return {
    meanOffsets: Object.fromEntries(Object.entries(offsets).map(([method, xs]) => [method, Math.round(mean(xs))])),
    meanSpanMs: Math.round(spanSum / Math.max(1, agents.size)),
    agentsInProgress: Number((spanSum / Math.max(1, whole)).toFixed(1)),
    sharedReads: shared.length,
    meanMsBetweenSharedReads: Math.round(mean(gaps)),
    meanMsBetweenAgentStarts: Math.round(whole / Math.max(1, agents.size))
  }
}

const startSqlCounter = async () => {
  const counter = spawn(process.execPath, [path.join(HERE, "sqlCounter.ts")], { stdio: ["pipe", "pipe", "inherit"] })
  const answers = createInterface({ input: counter.stdout! })[Symbol.asyncIterator]()
  const line = async () => String((await answers.next()).value)
  const next = async () => Number(await line())
  const port = await next()
  return {
    port,
    statements: () => (counter.stdin!.write("count\n"), next()),
    /** The statements so far by text (their first 160 characters). */
    texts: async (): Promise<Record<string, number>> => (counter.stdin!.write("texts\n"), JSON.parse(await line())),
    stop: async () => {
      counter.kill()
      if (counter.exitCode === null) await once(counter, "exit")
    }
  }
}

export const syncThousand = async () => {
  const simulator = await startGatewaySimulator({ latencyMs: 5 })
  const db = await createTestDatabase()
  const counter = await startSqlCounter()
  const counted = new URL(db.url)
  counted.host = `127.0.0.1:${counter.port}`
  const env = {
    DATABASE_URL: counted.toString(),
    SWITCHYARD_CHECKIN_TIMEOUT_MS: "3600000",
    ...(CONCURRENCY === undefined ? {} : { SWITCHYARD_SYNC_CONCURRENCY: String(CONCURRENCY) })
  }
  let service = await startService(env)
  try {
    const { gatewayId, boardId } = await registerGatewayAndBoard(service as unknown as InProcessService, simulator, "bench")
    const provisionStarted = Date.now()
    await provision(service, gatewayId, boardId)
    const provisionMs = Date.now() - provisionStarted
    const profileDir = PROFILE ? mkdtempSync(path.join(tmpdir(), "sync-prof-")) : undefined
    if (profileDir !== undefined) {
      await service.kill("SIGTERM")
      service = await startService({ ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` })
    }
    // After a --cpu-prof restart too: a restarted service reconciles its gateway again.
    const settling = await settled(simulator)
    // What the settled service spends doing nothing (runner heartbeats, polls), per second.
    const idleCpuFrom = cpuMs(service.pid)
    const idleStatementsFrom = await counter.statements()
    await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS))
    const idleCpuPerS = ((cpuMs(service.pid) - idleCpuFrom) * 1_000) / IDLE_SAMPLE_MS
    const idleStatementsPerS = (((await counter.statements()) - idleStatementsFrom) * 1_000) / IDLE_SAMPLE_MS
    const callsFrom = simulator.calls.length
    const loopBefore = performance.eventLoopUtilization()
    const cpuFrom = cpuMs(service.pid)
    const statementsFrom = await counter.statements()
    const textsFrom = await counter.texts()
    const started = Date.now()
    // overwrite: USER.md and MEMORY.md are written too, so every agent gets all six of its files.
    const job = await service.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync?overwrite=true`)
    if (job.status !== 202) throw new Error(`sync: ${job.status} ${JSON.stringify(job.body)}`)
    const answeredMs = Date.now() - started
    const result = await followJob(service, `/api/v1/gateways/${gatewayId}/templates/sync/${job.body.job_id}/events`)
    const syncMs = Date.now() - started
    const serviceCpuMs = cpuMs(service.pid) - cpuFrom
    const statements = (await counter.statements()) - statementsFrom
    const textsTo = await counter.texts()
    const byText = Object.entries(textsTo)
      .map(([text, n]) => [text, n - (textsFrom[text] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((x, y) => y[1] - x[1])
    const simulatorBusy = performance.eventLoopUtilization(loopBefore).utilization
    const calls: Record<string, number> = {}
    for (const call of simulator.calls.slice(callsFrom)) calls[call.method] = (calls[call.method] ?? 0) + 1
    if (profileDir !== undefined) await service.kill("SIGTERM")
    console.log(`\ntemplate sync of ${AGENTS} agents (+ the gateway-main agent) × 6 files, service in its own process, simulator (5 ms latency) in the bench's`)
    console.log(`  sync concurrency ${CONCURRENCY ?? "default (8)"}; load average ${(await import("node:os")).loadavg()[0]!.toFixed(1)}`)
    console.log(`  provisioning ${AGENTS} agents through POST /agents (${IN_FLIGHT} in flight): ${provisionMs} ms`)
    console.log(`  fleet settled before the sync: waited ${settling.waitedMs} ms for ${QUIET_MS} ms without agents.list (${settling.lists} agents.list calls meanwhile)${settling.settled ? "" : `; NOT settled within ${SETTLE_LIMIT_MS} ms`}`)
    console.log(`  POST /templates/sync answered in ${answeredMs} ms; job ${result.status} after ${syncMs} ms (${Math.round((AGENTS + 1) / (syncMs / 1000))} agents/s)`)
    console.log(`  result: ${JSON.stringify(result.progress)}, main_updated ${result.main_updated}, errors ${result.errors.length}`)
    const callCount = Object.values(calls).reduce((sum, n) => sum + n, 0)
    console.log(`  gateway calls of the sync: ${callCount} (${(callCount / (AGENTS + 1)).toFixed(2)} per agent), by method: ${JSON.stringify(calls)}`)
    console.log(`  gateway call timeline per agent: ${JSON.stringify(callTimeline(simulator.calls.slice(callsFrom)))}`)
    console.log(`  SQL statements the service sent during the sync: ${statements} (${(statements / (AGENTS + 1)).toFixed(2)} per agent, the runner's idle traffic included)`)
    console.log(`  statements by text (per agent): ${byText.slice(0, 12).map(([text, n]) => `${(n / (AGENTS + 1)).toFixed(2)} ${text.slice(0, 70)}`).join(" | ")}`)
    console.log(`  service CPU during the sync: ${Math.round(serviceCpuMs)} ms (${(serviceCpuMs / (AGENTS + 1)).toFixed(2)} ms per agent, ${Math.round((100 * serviceCpuMs) / syncMs)}% of a core)`)
    // Idle traffic grows with the sync's wall time (a loaded machine): these leave it out.
    const idleCpuMs = (idleCpuPerS * syncMs) / 1_000
    const idleStatements = (idleStatementsPerS * syncMs) / 1_000
    console.log(
      `  above the settled service's idle (${idleCpuPerS.toFixed(1)} ms CPU/s, ${idleStatementsPerS.toFixed(1)} statements/s over ${IDLE_SAMPLE_MS} ms): ` +
        `${((serviceCpuMs - idleCpuMs) / (AGENTS + 1)).toFixed(2)} ms CPU and ${((statements - idleStatements) / (AGENTS + 1)).toFixed(2)} statements per agent`
    )
    console.log(`  the simulator's event loop was busy ${Math.round(simulatorBusy * 100)}% of the sync`)
    if (profileDir !== undefined) {
      console.log(`  service CPU by area (self time, restore included; --cpu-prof in ${profileDir}): ${profileSummary(profileDir)}`)
      console.log(`  top functions: ${profileTopFunctions(profileDir, 15).join("; ")}`)
    }
  } finally {
    if (!service.exited()) await service.kill("SIGTERM")
    await counter.stop()
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await syncThousand()
