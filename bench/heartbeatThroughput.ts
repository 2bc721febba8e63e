/**
 * Durable heartbeats per second on one runner, and what they cost. The service runs as a
 * process of its own against a fresh database on the machine's Postgres; the load generator
 * (`loadGenerator.ts`), a `node:http` hello server (`helloServer.ts`), the SSE client
 * (`sseClient.ts`) and a statement-counting proxy to Postgres (`sqlCounter.ts`) each run in
 * processes of their own, so none shares the service's event loop.
 *
 * The fleet is made cheaply: one agent is provisioned through the API against the simulator and
 * brought online, then its row is cloned (new id, name, gateway agent id and token), the clones
 * are given the template's state on the simulator (`seedSimulator`), and the service restarted
 * to restore them. Prints:
 * - the maximum sustained durable rate (closed loop, `--in-flight` requests outstanding), beside
 *   the hello server driven by the same generator in the same run, and the ratio;
 * - the service's CPU time per heartbeat at that rate (from /proc; robust on a busy machine);
 * - heartbeat latency p50/p99 at 50% and 90% of that rate (open loop: fixed schedule); at 50%,
 *   beside it, a bare commit's latency on the same server and the checkpoints requested
 *   meanwhile (`commitProbe.ts`), which tell the server's stalls from the service's;
 * - SQL statements per heartbeat (every Query/Execute the service sends, idle traffic removed);
 * - heartbeat → SSE event p50/p99 at 100, 1,000 and 5,000/s (a rate above the maximum is run
 *   for 1 s only, to stay bounded, and marked so).
 * - the restart of the fleet: `/readyz` and the first heartbeat accepted after the start, the
 *   service's RSS once settled, its idle CPU (% of a core) with the fleet online, and the
 *   transitions the restart wrote before any heartbeat (none for this unchanged fleet, §6.6 of
 *   docs/architecture.md: more means the clones are not faithful or restore moves agents);
 * - the throughput bars (≥ 5,000/s, ≥ 15% of hello, p99 < 50 ms at half the rate, heartbeat →
 *   SSE p99 < 50 ms at 1,000/s), each as met or not, from this run's figures;
 * - with `--cpu-prof`, where the service's CPU went at the max rate (Node's `--cpu-prof`, by
 *   package: effect, pg, xstate, the service's own code, node internals, GC).
 * `--sse-only` and `--max-only` run one part alone (quick looks while working on the hot path);
 * `--sse-rates 100,1000,5000` sets the heartbeat → SSE rates (with `--sse-only`, each runs the full `--seconds`).
 * `--agents N` (default 1,000), `--seconds N` per measured phase (default 8), `--in-flight N`
 * (default 64).
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { createHash, randomBytes, randomUUID } from "node:crypto"
import path from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { readAuthToken } from "../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../test/support/database.ts"
import { registerGatewayAndBoard, type InProcessService } from "../test/support/inProcessService.ts"
import { startService, type ServiceProcess } from "../test/support/serviceProcess.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { flag, percentile, startFlags } from "./common.ts"
import type { CommitProbe } from "./commitProbe.ts"
import { cpuMs, profileSummary, rssMiB, servicePid } from "./processStats.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const AGENTS = flag("--agents", 1_000)
const SECONDS = flag("--seconds", 8)
const IN_FLIGHT = flag("--in-flight", 64)
/** `--sse-rates 100,1000,5000`: the heartbeat → SSE rates (per second). */
const ratesFlag = process.argv.indexOf("--sse-rates")
const SSE_RATES = ratesFlag === -1 ? [100, 1_000, 5_000] : (process.argv[ratesFlag + 1] ?? "").split(",").map(Number)
/** `--sse-only`: the fleet and heartbeat → SSE at each `--sse-rates` (default 100 and 1,000/s), nothing else (a quick look at the stream). */
const SSE_ONLY = process.argv.includes("--sse-only")
const CPU_PROFILE = process.argv.includes("--cpu-prof")
/** `--max-only`: the fleet, then the max rate, its CPU per heartbeat and the hello ratio, nothing else (a quick look at the hot path). */
const MAX_ONLY = process.argv.includes("--max-only")
const HEARTBEAT = "/api/v1/agent/heartbeat"
/** The service runs with `npm start`'s Node flags (its young-generation size and memory reducer), as an operator runs it. */
const SERVICE_FLAGS = startFlags(path.join(HERE, ".."))

/** Progress on stderr, so the figures on stdout stay clean. */
const step = (text: string) => process.stderr.write(`  [heartbeatThroughput] ${text}\n`)
const ms = (value: number) => `${value.toFixed(1)} ms`
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, millis)))

/** A bench helper script as a child process (Node's own type stripping; no tsx). */
export const child = (script: string, args: ReadonlyArray<string> = []): ChildProcess =>
  spawn(process.execPath, [path.join(HERE, script), ...args], { stdio: ["pipe", "pipe", "inherit"] })

/** The child's stdout, line by line, as a pull. */
/** The database's bare commit latency and requested checkpoints over `seconds` (`commitProbe.ts`), run beside a load. */
const commitProbe = async (databaseUrl: string, seconds: number): Promise<CommitProbe> =>
  JSON.parse(await lines(child("commitProbe.ts", [databaseUrl, String(seconds)]))()) as CommitProbe

export const lines = (process: ChildProcess) => {
  const queue: string[] = []
  const waiting: Array<(line: string) => void> = []
  let partial = ""
  process.stdout?.setEncoding("utf8")
  process.stdout?.on("data", (chunk: string) => {
    partial += chunk
    let end = partial.indexOf("\n")
    while (end !== -1) {
      const line = partial.slice(0, end)
      partial = partial.slice(end + 1)
      const taker = waiting.shift()
      if (taker === undefined) queue.push(line)
      else taker(line)
      end = partial.indexOf("\n")
    }
  })
  return () => new Promise<string>((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiting.push(resolve)))
}

interface LoadResult {
  readonly ok: number
  readonly failed: number
  readonly seconds: number
  readonly rate: number
  readonly p50: number
  readonly p99: number
  /** `id:version`, sent and answered (epoch ms). */
  /** `id:version`, when it was due (epoch ms), answered, and actually sent (late if the generator ran late). */
  readonly keys: ReadonlyArray<[string, number, number, number]>
}

/** One run of the load generator process. */
export const load = (job: Record<string, unknown>): Promise<LoadResult> =>
  new Promise((resolve, reject) => {
    const generator = child("loadGenerator.ts")
    const out: Buffer[] = []
    generator.stdout?.on("data", (chunk: Buffer) => out.push(chunk))
    generator.once("exit", (code) => (code === 0 ? resolve(JSON.parse(Buffer.concat(out).toString("utf8")) as LoadResult) : reject(new Error(`load generator exited ${code}`))))
    generator.stdin?.end(JSON.stringify(job))
  })

const heartbeatOnce = async (url: string, token: string) => {
  const response = await fetch(`${url}${HEARTBEAT}`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": token }, body: "{}" })
  if (response.status !== 200) throw new Error(`heartbeat: ${response.status} ${await response.text()}`)
  return (await response.json()) as { id: string; version: number; state?: string }
}

export const serviceEnv = (databaseUrl: string) => ({
  DATABASE_URL: databaseUrl,
  SWITCHYARD_CHECKIN_TIMEOUT_MS: "3600000",
  SWITCHYARD_OFFLINE_AFTER_MS: "3600000",
  SWITCHYARD_TRANSITIONS_KEEP_PER_AGENT: "500"
})

const withPort = (url: string, port: number) => {
  const next = new URL(url)
  next.host = `127.0.0.1:${port}`
  return next.toString()
}

/** Provisions one agent through the API and brings it online; returns its id and token. */
export const provisionOne = async (service: ServiceProcess, simulator: GatewaySimulator) => {
  const { boardId } = await registerGatewayAndBoard(service as unknown as InProcessService, simulator, "hb")
  const created = await service.api("POST", "/api/v1/agents", { name: "hb-agent-template", board_id: boardId })
  if (created.status !== 201) throw new Error(`agent: ${created.status} ${JSON.stringify(created.body)}`)
  const id = created.body.id as string
  for (;;) {
    const agent = await service.api("GET", `/api/v1/agents/${id}`)
    if (agent.body.state === "provisioning.awaiting") {
      const token = readAuthToken(simulator.state.files.get(agent.body.gateway_agent_id)?.get("AGENTS.md") ?? "")
      if (token === undefined) throw new Error("no token in AGENTS.md")
      await heartbeatOnce(service.url, token)
      return { id, token }
    }
    if (String(agent.body.state).endsWith("failed")) throw new Error(`provisioning failed: ${JSON.stringify(agent.body)}`)
    await sleep(100)
  }
}

/**
 * Clones the template agent's row `count - 1` times (new id, name, gateway agent id, session key
 * and token) in one transaction; returns the tokens of the whole fleet.
 */
export const cloneFleet = async (databaseUrl: string, template: { id: string; token: string }, count: number) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ row: string; token_hash: string }>("select row_to_json(a)::text as row, token_hash from agents a where id = $1", [template.id])
    const source = rows[0]
    if (source === undefined) throw new Error("template agent not found")
    const tokens = [template.token]
    await client.query("begin")
    for (let start = 1; start < count; start += 1_000) {
      const batch: string[] = []
      for (let i = start; i < Math.min(count, start + 1_000); i++) {
        const token = `sy_${randomBytes(32).toString("base64url")}`
        tokens.push(token)
        const hash = createHash("sha256").update(token, "utf8").digest("hex")
        batch.push(source.row.replaceAll(template.id, randomUUID()).replaceAll("hb-agent-template", `hb-agent-${i}`).replaceAll(source.token_hash, hash))
      }
      await client.query("insert into agents select * from json_populate_recordset(null::agents, $1::json)", [`[${batch.join(",")}]`])
    }
    await client.query("commit")
    return tokens
  } finally {
    await client.end()
  }
}

/**
 * Gives every clone what the template has on the simulator: its agent, its config entry
 * (`agents.entries.<id>`, where `health` reads the effective heartbeat) and its sessions, so the
 * clones look to the gateway as the template does. Without the agent, each clone is judged
 * missing after the restart; without the entry, `health` reports the default heartbeat (30m),
 * not the spec's, and each clone goes offline with `heartbeat_mismatch`: either way ~1 transition
 * per clone written during the first measured phases.
 */
export const seedSimulator = async (databaseUrl: string, simulator: GatewaySimulator) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ gateway_agent_id: string }>("select gateway_agent_id from agents where deleted_at is null")
    const template = [...simulator.state.agents.values()].find((agent) => agent.id !== "main")
    if (template === undefined) throw new Error("the template agent is not on the simulator")
    const agents = simulator.state.config["agents"] as { entries?: Record<string, unknown> } | undefined
    const entry = agents?.entries?.[template.id]
    if (agents?.entries === undefined || entry === undefined) throw new Error("the template agent has no config entry on the simulator")
    const sessions = [...simulator.state.sessions.values()].filter((session) => session.agentId === template.id)
    const swap = (text: string, id: string) => text.replaceAll(template.id, id)
    for (const { gateway_agent_id: id } of rows) {
      if (simulator.state.agents.has(id)) continue
      simulator.state.agents.set(id, { ...template, id, workspace: swap(template.workspace, id), agentDir: swap(template.agentDir, id) })
      agents.entries[id] = JSON.parse(swap(JSON.stringify(entry), id)) as unknown
      for (const session of sessions) {
        const key = swap(session.key, id)
        simulator.state.sessions.set(key, { ...session, key, agentId: id, sessionId: randomUUID(), fields: { ...session.fields } })
      }
    }
  } finally {
    await client.end()
  }
}

/** Rows in `agent_transitions`, read straight from Postgres (not through the statement counter). */
const transitionCount = async (databaseUrl: string) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return Number((await client.query<{ count: string }>("select count(*) as count from agent_transitions")).rows[0]?.count ?? 0)
  } finally {
    await client.end()
  }
}

/**
 * Waits until the service's statement count per `quietMs` stops falling (restore writes done;
 * a runner keeps some idle traffic of its own), at most `maxMs`.
 */
const settle = async (count: () => Promise<number>, quietMs: number, maxMs = 60_000) => {
  const until = performance.now() + maxMs
  let last = await count()
  let previous = Number.POSITIVE_INFINITY
  for (;;) {
    await sleep(quietMs)
    const now = await count()
    const delta = now - last
    // Still, or down to the runner's own steady idle traffic (cluster storage, shard locks): no longer falling.
    if (delta <= 2 || delta >= 0.8 * previous || performance.now() > until) return now
    previous = delta
    last = now
  }
}

/** Heartbeat → SSE at `rate` for `seconds`: one SSE client process, one generator process. */
export const sseLatency = async (service: Pick<ServiceProcess, "url" | "adminToken">, tokens: ReadonlyArray<string>, rate: number, seconds: number) => {
  const client = child("sseClient.ts", [service.url, service.adminToken])
  const next = lines(client)
  if ((await next()) !== "ready") throw new Error("SSE client did not start")
  const result = await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate, seconds, keys: true, inFlight: 512 })
  const deadline = Date.now() + 10_000
  let arrivals: Record<string, number> = {}
  // Give the stream time to deliver the last events, then collect.
  await sleep(Math.min(3_000, deadline - Date.now()))
  const collected = next()
  const exited = new Promise<string>((resolve) => client.once("close", () => resolve("{}")))
  client.stdin?.end()
  arrivals = JSON.parse(await Promise.race([collected, exited])) as Record<string, number>
  const latencies = result.keys.flatMap(([key, sentAt]) => (arrivals[key] === undefined ? [] : [arrivals[key] - sentAt]))
  // The stream's own share: from the heartbeat's answer to its event (negative when the event came first).
  const afterAnswer = result.keys.flatMap(([key, , answeredAt]) => (arrivals[key] === undefined ? [] : [arrivals[key] - answeredAt]))
  return {
    sent: result.ok,
    failed: result.failed,
    delivered: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    postP50: result.p50,
    postP99: result.p99,
    answerP50: percentile(afterAnswer, 50),
    answerP99: percentile(afterAnswer, 99)
  }
}

/** One line of heartbeat → SSE figures: POST to event, POST to answer, answer to event (the stream's own delay). */
export const sseFigures = (figures: Awaited<ReturnType<typeof sseLatency>>) =>
  `p50 ${ms(figures.p50)}, p99 ${ms(figures.p99)}; delivered ${figures.delivered}/${figures.sent} (${figures.failed} failed); ` +
  `POST answered p50 ${ms(figures.postP50)}, p99 ${ms(figures.postP99)}; answer → event p50 ${ms(figures.answerP50)}, p99 ${ms(figures.answerP99)}`

/** The max rate (closed loop, after a 2 s warm-up) and the service's CPU per heartbeat at it. */
const maxRate = async (service: ServiceProcess, tokens: ReadonlyArray<string>) => {
  await load({ mode: "closed", url: service.url, path: HEARTBEAT, tokens, inFlight: IN_FLIGHT, seconds: 2 })
  const pid = servicePid(service.url)
  const cpuFrom = cpuMs(pid)
  const max = await load({ mode: "closed", url: service.url, path: HEARTBEAT, tokens, inFlight: IN_FLIGHT, seconds: SECONDS })
  return { pid, max, cpuPerHeartbeat: (cpuMs(pid) - cpuFrom) / Math.max(1, max.ok) }
}

/** One service for the max rate alone, profiled (`--cpu-prof`); answers the profile's directory. */
const profiledMax = async (databaseUrl: string, tokens: ReadonlyArray<string>) => {
  const profileDir = mkdtempSync(path.join(tmpdir(), "hb-prof-"))
  const profiled = await startService({ ...serviceEnv(databaseUrl), NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` }, { nodeFlags: SERVICE_FLAGS })
  await sleep(2_000)
  await maxRate(profiled, tokens)
  await profiled.kill("SIGTERM")
  return profileDir
}

/** Builds the fleet, then prints the max rate, latencies, statements and heartbeat → SSE figures (see the file's docstring). */
export const heartbeatThroughput = async () => {
  const simulator = await startGatewaySimulator({ latencyMs: 1 })
  const db = await createTestDatabase()
  const counter = child("sqlCounter.ts")
  const counterLine = lines(counter)
  const counterPort = Number(await counterLine())
  const statements = async () => (counter.stdin?.write("count\n"), Number(await counterLine()))
  const hello = child("helloServer.ts")
  const helloPort = Number(await lines(hello)())
  let service: ServiceProcess | undefined
  try {
    // 1. The fleet: one agent provisioned, the rest cloned from its row.
    step("provisioning the template agent")
    service = await startService(serviceEnv(db.url), { nodeFlags: SERVICE_FLAGS })
    const template = await provisionOne(service, simulator)
    await service.kill("SIGTERM")
    step(`cloning it to ${AGENTS} agents`)
    const tokens = await cloneFleet(db.url, template, AGENTS)
    await seedSimulator(db.url, simulator)
    if (SSE_ONLY) {
      service = await startService(serviceEnv(db.url), { nodeFlags: SERVICE_FLAGS })
      await sleep(2_000)
      for (const rate of ratesFlag === -1 ? SSE_RATES.slice(0, 2) : SSE_RATES) {
        step(`heartbeat → SSE at ${rate}/s`)
        const figures = await sseLatency(service, tokens, rate, SECONDS)
        console.log(`  heartbeat → SSE at ${rate}/s: ${sseFigures(figures)}`)
      }
      return
    }
    if (MAX_ONLY) {
      if (CPU_PROFILE) {
        const dir = await profiledMax(db.url, tokens)
        console.log(`  CPU at the max rate by area (self time, --cpu-prof in ${dir}): ${profileSummary(dir)}`)
      }
      service = await startService(serviceEnv(db.url), { nodeFlags: SERVICE_FLAGS })
      await sleep(2_000)
      // At a fixed rate well below the max, the service's CPU per heartbeat beyond its idle CPU: steadier than the max on a busy machine.
      const servicePidNow = servicePid(service.url)
      const idleFrom = cpuMs(servicePidNow)
      await sleep(2_000)
      const idlePerMs = (cpuMs(servicePidNow) - idleFrom) / 2_000
      const fixedFrom = cpuMs(servicePidNow)
      const fixedStarted = performance.now()
      const fixed = await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate: 300, seconds: SECONDS, inFlight: 512 })
      const fixedCpu = (cpuMs(servicePidNow) - fixedFrom - idlePerMs * (performance.now() - fixedStarted)) / Math.max(1, fixed.ok)
      console.log(`  at 300/s: service CPU ${ms(fixedCpu)}/heartbeat beyond idle (idle ${(100 * idlePerMs).toFixed(1)}% of a core); p50 ${ms(fixed.p50)}, p99 ${ms(fixed.p99)}`)
      const { max, cpuPerHeartbeat } = await maxRate(service, tokens)
      const helloRun = await load({ mode: "closed", url: `http://127.0.0.1:${helloPort}`, path: "/", tokens: [], inFlight: IN_FLIGHT, seconds: SECONDS })
      console.log(`  max ${max.rate.toFixed(0)}/s (p50 ${ms(max.p50)}, p99 ${ms(max.p99)}, ${max.failed} failed); service CPU ${ms(cpuPerHeartbeat)}/heartbeat; hello ${helloRun.rate.toFixed(0)}/s → ${((100 * max.rate) / helloRun.rate).toFixed(1)}%`)
      return
    }
    step("counting statements per heartbeat")

    // 2. Statements per heartbeat, through the counting proxy (its own service process); the
    // restart of the fleet (ready, first heartbeat accepted), RSS and idle CPU on the way.
    const transitionsBefore = await transitionCount(db.url)
    const starting = performance.now()
    service = await startService(serviceEnv(withPort(db.url, counterPort)), { nodeFlags: SERVICE_FLAGS })
    const readyMs = performance.now() - starting
    while ((await fetch(`${service.url}${HEARTBEAT}`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": tokens[0]! }, body: "{}" })).status !== 200) await sleep(20)
    const firstHeartbeatMs = performance.now() - starting
    await settle(statements, 1_000)
    const restartPid = servicePid(service.url)
    const settledRss = rssMiB(restartPid)
    const idleCpuFrom = cpuMs(restartPid)
    const idleStarted = performance.now()
    // The runner's own idle traffic (cluster storage, shard locks), the lowest rate of four 1 s
    // windows around the counted runs: a burst (a restore's tail) must not be taken for it.
    const idleRates: number[] = []
    const idleWindow = async () => {
      const from = await statements()
      const started = performance.now()
      await sleep(1_000)
      idleRates.push(((await statements()) - from) / (performance.now() - started))
    }
    await idleWindow()
    await idleWindow()
    const idleCpu = (cpuMs(restartPid) - idleCpuFrom) / (performance.now() - idleStarted)
    const restartTransitions = (await transitionCount(db.url)) - transitionsBefore
    const countFrom = await statements()
    const countStarted = performance.now()
    const counted = await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate: 200, seconds: 5, inFlight: 64 })
    await sleep(500)
    const countedStatements = (await statements()) - countFrom
    const countedMs = performance.now() - countStarted
    // One at a time: nothing to batch with, so the count does not depend on the load.
    const ALONE = 500
    const aloneFrom = await statements()
    const aloneCpuFrom = cpuMs(restartPid)
    const aloneStarted = performance.now()
    for (let i = 0; i < ALONE; i++) await heartbeatOnce(service.url, tokens[i % tokens.length]!)
    const cpuAlone = (cpuMs(restartPid) - aloneCpuFrom) / ALONE
    await sleep(500)
    const aloneStatements = (await statements()) - aloneFrom
    const aloneMs = performance.now() - aloneStarted
    await idleWindow()
    await idleWindow()
    const idlePerMs = Math.min(...idleRates)
    const perHeartbeat = (countedStatements - idlePerMs * countedMs) / Math.max(1, counted.ok)
    const perHeartbeatAlone = (aloneStatements - idlePerMs * aloneMs) / ALONE
    await service.kill("SIGTERM")

    // 3. Throughput, latency and the stream, straight to Postgres.
    step("max rate, hello, latency at 50% and 90%")
    const profileDir = CPU_PROFILE ? await profiledMax(db.url, tokens) : undefined
    service = await startService(serviceEnv(db.url), { nodeFlags: SERVICE_FLAGS })
    await sleep(2_000)
    const { pid, max, cpuPerHeartbeat } = await maxRate(service, tokens)
    const helloRun = await load({ mode: "closed", url: `http://127.0.0.1:${helloPort}`, path: "/", tokens: [], inFlight: IN_FLIGHT, seconds: SECONDS })
    // With the database's own commit latency beside it: a bare commit's stalls are the server's, not the service's.
    const [half, halfProbe] = await Promise.all([
      load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate: Math.round(max.rate * 0.5), seconds: SECONDS, inFlight: 512 }),
      commitProbe(db.url, SECONDS)
    ])
    const ninety = await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate: Math.round(max.rate * 0.9), seconds: SECONDS, inFlight: 512 })
    console.log(`heartbeatThroughput: ${AGENTS} agents online, service and load generator in separate processes, ${IN_FLIGHT} requests in flight`)
    console.log(`  max sustained durable heartbeats: ${max.rate.toFixed(0)}/s (${max.failed} failed; p50 ${ms(max.p50)}, p99 ${ms(max.p99)})`)
    console.log(`  service CPU per heartbeat at the max rate: ${pid === undefined ? "n/a" : ms(cpuPerHeartbeat)} (user + system, 10 ms ticks)`)
    console.log(`  node:http hello, same generator: ${helloRun.rate.toFixed(0)}/s → ratio ${((100 * max.rate) / helloRun.rate).toFixed(1)}%`)
    console.log(`  at 50% (${Math.round(max.rate * 0.5)}/s): p50 ${ms(half.p50)}, p99 ${ms(half.p99)}, achieved ${half.rate.toFixed(0)}/s, ${half.failed} failed`)
    console.log(
      `    meanwhile a bare commit on this Postgres (commitProbe.ts, one every 10 ms): p50 ${ms(halfProbe.p50)}, p99 ${ms(halfProbe.p99)}, max ${ms(halfProbe.max)}; ` +
        `${halfProbe.checkpointsRequested} checkpoints requested (each DROP DATABASE on the server requests one)`
    )
    console.log(`  at 90% (${Math.round(max.rate * 0.9)}/s): p50 ${ms(ninety.p50)}, p99 ${ms(ninety.p99)}, achieved ${ninety.rate.toFixed(0)}/s, ${ninety.failed} failed`)
    console.log(`  SQL statements per heartbeat: ${perHeartbeat.toFixed(2)} (${counted.ok} heartbeats at 200/s), ${perHeartbeatAlone.toFixed(2)} one at a time (no batching)`)
    console.log(`  service CPU per heartbeat one at a time: ${ms(cpuAlone)} (${ALONE} in sequence; independent of the load, unlike the max-rate figure)`)
    console.log(
      `  restart with ${AGENTS} agents: /readyz after ${ms(readyMs)}, first heartbeat accepted after ${ms(firstHeartbeatMs)}; RSS settled ${settledRss.toFixed(0)} MiB; idle CPU ${(100 * idleCpu).toFixed(1)}% of a core; ` +
        `${restartTransitions} transitions written (an unchanged fleet: none, docs/architecture.md §6.6)`
    )
    if (profileDir !== undefined) console.log(`  CPU at the max rate by area (self time, --cpu-prof in ${profileDir}): ${profileSummary(profileDir)}`)
    const sse: Record<number, { p99: number; delivered: number; sent: number }> = {}
    for (const rate of SSE_RATES) {
      const above = rate > max.rate
      step(`heartbeat → SSE at ${rate}/s`)
      const figures = await sseLatency(service, tokens, rate, above ? 1 : 5)
      sse[rate] = figures
      console.log(
        `  heartbeat → SSE at ${rate}/s${above ? " (above the max: 1 s only)" : ""}: ${sseFigures(figures)}`
      )
    }
    const bar = (met: boolean, text: string) => console.log(`  ${met ? "met    " : "not met"} ${text}`)
    console.log("  the issue's bars, from this run:")
    bar(max.rate >= 5_000, `≥ 5,000 durable heartbeats/s: ${max.rate.toFixed(0)}/s`)
    bar(max.rate >= 0.15 * helloRun.rate, `≥ 15% of node:http hello: ${((100 * max.rate) / helloRun.rate).toFixed(1)}%`)
    bar(half.p99 < 50, `p99 < 50 ms at half the max rate: ${ms(half.p99)}`)
    const at1000 = sse[1_000]
    bar(at1000 !== undefined && at1000.p99 < 50 && at1000.delivered === at1000.sent, `heartbeat → SSE p99 < 50 ms at 1,000/s, every event delivered: ${at1000 === undefined ? "n/a" : `${ms(at1000.p99)}, ${at1000.delivered}/${at1000.sent}`}`)
  } finally {
    await service?.kill("SIGTERM")
    counter.stdin?.end()
    hello.kill()
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await heartbeatThroughput()
