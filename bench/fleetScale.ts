/**
 * Fleet scale: the service as a process of its own, restarted over 10,000 and 100,000 persisted
 * online agents (cloned rows, not provisioned one by one). Prints, per size: restart to /readyz
 * 200, to the first accepted heartbeat, the versions restore wrote, RSS after settling, idle
 * CPU, active timers, and the latency of the per-event queries. Also the start time and idle
 * RSS of the service over an empty database.
 *
 * Env: `FLEET_SIZES` (default `10000,100000`), `FLEET_IDLE_S` (idle CPU window, default 20; the
 * liveness watcher's fleet-sized reads come once per reconciliation, 300 s by default: a window of
 * that length includes one),
 * `FLEET_IDLE_AFTER_S` (wait after settling before that window, default 30: the liveness watcher's
 * first roster read, probe and reconciliation are start-up work, not the idle fleet's),
 * `FLEET_SERVICE_ROOT` (another checkout to measure, e.g. an older commit; default this one),
 * `FLEET_NODE_FLAGS` (extra Node flags for the service, space-separated, e.g. `--max-semi-space-size=1`),
 * `FLEET_ENV` (extra service environment, space-separated `NAME=value`, e.g. `SWITCHYARD_LIVENESS_WATCHERS=false`
 * to tell the actors' own cost from the liveness watcher's),
 * `FLEET_SQL_COUNT=1` (the restarted service talks to Postgres through `sqlCounter.ts`: the idle
 * window's statements per minute, by text), `FLEET_CPU_PROF` (a directory: a CPU profile of the idle
 * window alone, summarised by `processStats.ts`),
 * `FLEET_STDOUT` (a file the service's stdout is appended to, e.g. with `FLEET_NODE_FLAGS=--trace-gc`: its
 * lines carry ms since start; the idle window's bounds are printed in the same clock),
 * `FLEET_HEAP_SNAPSHOT` (a directory: after settling, the service writes a `.heapsnapshot` there;
 * summarise it with `node bench/heapSummary.ts <file>`).
 */
import { spawn, type ChildProcess } from "node:child_process"
import { openSync, readFileSync } from "node:fs"
import { mkdtemp } from "node:fs/promises"
import { freePort } from "../test/support/freePort.ts"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import type { Statement } from "@effect/sql/Statement"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { AppConfigTest } from "../src/config/AppConfig.ts"
import { agentQueries } from "../src/store/AgentRepo.ts"
import { SqlLive } from "../src/database/Database.ts"
import { fleetQueries } from "../src/store/fleetQueries.ts"
import { LIVENESS_LIMITS, seedOnlineFleet } from "../test/agents/onlineFleet.ts"
import { createTestDatabase } from "../test/support/database.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { startFlags } from "./common.ts"
import { startSqlCounter, statementRates } from "./idleWindow.ts"
import { profileSummary, profileTopFunctions } from "./processStats.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ADMIN_TOKEN = "bench-admin-token-0123456789"
// The service is started with this very policy (`policyEnv`): a restore that found it changed
// would rightly write every agent, which is not what this bench measures.
const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS }
const policyEnv = {
  SWITCHYARD_OFFLINE_AFTER_MS: String(policy.offlineAfterMs),
  SWITCHYARD_CHECKIN_TIMEOUT_MS: String(policy.checkinTimeoutMs),
  SWITCHYARD_MAX_WAKE_ATTEMPTS: String(policy.maxWakeAttempts),
  SWITCHYARD_MAX_ATTEMPTS: String(policy.maxAttempts),
  SWITCHYARD_RETRY_BASE_MS: String(policy.retryBaseMs),
  SWITCHYARD_OFFLINE_FACTOR: String(policy.offlineFactor),
  SWITCHYARD_OFFLINE_GRACE_MS: String(policy.offlineGraceMs),
  SWITCHYARD_GATEWAY_LOST_AFTER_MS: String(policy.gatewayLostAfterMs),
  SWITCHYARD_MAX_FAILED_RUNS: String(policy.maxFailedRuns)
}
/** The heartbeat the cloned agents ask for, and the one the simulated gateway reports for each. */
const HEARTBEAT = { every: "10m", target: "none" }
const CLOCK_TICKS_PER_S = 100

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Service {
  readonly url: string
  readonly child: ChildProcess
  readonly startedAt: number
  readonly stderr: () => string
  readonly stop: () => Promise<void>
}

/** `root`'s service on `databaseUrl` (with tsx when that checkout's `npm start` uses it). */
const spawnService = async (root: string, databaseUrl: string): Promise<Service> => {
  const port = await freePort()
  const start = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start
  // The Node flags of its `npm start` (e.g. `node --max-semi-space-size=16 src/main.ts`), then FLEET_NODE_FLAGS.
  const flags = [...startFlags(root), ...(process.env["FLEET_NODE_FLAGS"] ?? "").split(" ").filter((flag) => flag.startsWith("--"))]
  const snapshotDir = process.env["FLEET_HEAP_SNAPSHOT"]
  const heap = snapshotDir === undefined ? [] : ["--heapsnapshot-signal=SIGUSR1", `--diagnostic-dir=${snapshotDir}`]
  const profile = process.env["FLEET_CPU_PROF"] === undefined ? [] : ["--import", path.join(HERE, "idleProfile.mjs")]
  const args = [...(start.includes("tsx") ? ["--import", "tsx"] : []), ...flags, ...heap, "--import", path.join(HERE, "timerProbe.mjs"), ...profile, "src/main.ts"]
  const startedAt = performance.now()
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      PATH: process.env["PATH"] ?? "",
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHYARD_BASE_URL: `http://127.0.0.1:${port}`,
      SWITCHYARD_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
      SWITCHYARD_DATA_DIR: await mkdtemp(path.join(tmpdir(), "sy-fleet-")),
      ...(process.env["FLEET_CPU_PROF"] === undefined ? {} : { FLEET_CPU_PROF: process.env["FLEET_CPU_PROF"] }),
      ...policyEnv,
      ...Object.fromEntries((process.env["FLEET_ENV"] ?? "").split(" ").filter((pair) => pair.includes("=")).map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]))
    },
    stdio: ["ignore", process.env["FLEET_STDOUT"] === undefined ? "ignore" : openSync(process.env["FLEET_STDOUT"], "a"), "pipe"]
  })
  const errors: Array<string> = []
  child.stderr?.on("data", (chunk: Buffer) => {
    errors.push(chunk.toString())
    if (errors.length > 200) errors.shift()
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    startedAt,
    stderr: () => errors.join(""),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Polls `probe` every 50 ms until it holds; ms since the service was spawned. */
const until = async (service: Service, what: string, probe: () => Promise<boolean>, limitMs = 600_000) => {
  for (;;) {
    if (service.child.exitCode !== null) throw new Error(`service exited while waiting for ${what}:\n${service.stderr()}`)
    if (await probe().catch(() => false)) return performance.now() - service.startedAt
    if (performance.now() - service.startedAt > limitMs) throw new Error(`no ${what} after ${limitMs} ms`)
    await sleep(50)
  }
}

const ready = (service: Service) => until(service, "/readyz 200", async () => (await fetch(`${service.url}/readyz`)).status === 200)

const api = async (service: Service, method: string, route: string, body: unknown) => {
  const response = await fetch(`${service.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  return { status: response.status, body: (await response.json()) as { id: string } }
}

/** Resident set (MiB) and CPU time so far (s) of `pid`, from /proc. */
const usage = (pid: number) => {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return { rssMiB: rss, cpuS: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S }
}

/** Active timers and the `process.memoryUsage()` line (MiB) the service's probe prints on SIGUSR2. */
const probe = async (service: Service): Promise<{ timers: number | undefined; memory: string }> => {
  const before = service.stderr().length
  service.child.kill("SIGUSR2")
  for (let i = 0; i < 100; i++) {
    const output = service.stderr().slice(Math.max(0, before - 50))
    const timers = /\[timers\] (\d+)/.exec(output)
    if (timers !== null) return { timers: Number(timers[1]), memory: /\[memory\] ([^\n]*)/.exec(output)?.[1] ?? "n/a" }
    await sleep(50)
  }
  return { timers: undefined, memory: "n/a" }
}

/** Median round trip (ms) of `text` over `runs` runs. */
const latency = async (client: pg.Client, text: string, values: ReadonlyArray<unknown>, runs = 15) => {
  const times: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await client.query(text, [...values])
    times.push(performance.now() - started)
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!
}

/** The SQL text and parameters of statements built by the repository's builders, so the bench times what the service runs. */
const compiled = async <K extends string>(databaseUrl: string, build: (sql: SqlClient.SqlClient) => Record<K, Statement<unknown>>) => {
  const runtime = ManagedRuntime.make(
    SqlLive.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(databaseUrl)) })), Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))
  )
  try {
    return await runtime.runPromise(
      Effect.map(SqlClient.SqlClient, (sql) => {
        const statements = build(sql)
        return Object.fromEntries(Object.entries<Statement<unknown>>(statements).map(([name, statement]) => [name, statement.compile()])) as Record<K, readonly [string, ReadonlyArray<unknown>]>
      })
    )
  } finally {
    await runtime.dispose()
  }
}

const queryLatencies = async (databaseUrl: string, ids: { gatewayId: string; boardId: string }, size: number) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const cursor = (
      await client.query<{ at: string; id: string }>(
        "select (extract(epoch from created_at) * 1000000)::bigint::text as at, id from agents where deleted_at is null order by created_at, id offset $1 limit 1",
        [Math.max(0, size - 201)]
      )
    ).rows[0]!
    const live = "id, gateway_id, board_id, name, role, status, state_path, last_seen_at, heartbeat_config, version, created_at, updated_at"
    return {
      mainOf: await latency(client, "select id, session_key from agents where gateway_id = $1 and role = 'main' and deleted_at is null", [ids.gatewayId]),
      leadOf: await latency(client, "select id from agents where board_id = $1 and role = 'lead' and deleted_at is null", [ids.boardId]),
      "worker cap (count all)": await latency(client, "select count(*) from agents where board_id = $1 and role = 'worker' and deleted_at is null", [ids.boardId]),
      "worker cap (count to 50)": await latency(
        client,
        "select count(*) from (select 1 from agents where board_id = $1 and role = 'worker' and deleted_at is null limit 50) as workers",
        [ids.boardId]
      ),
      "list last page (offset + count)":
        (await latency(client, `select ${live} from agents where deleted_at is null order by created_at, id limit 200 offset $1`, [Math.max(0, size - 200)])) +
        (await latency(client, "select count(*) from agents where deleted_at is null", [])),
      "list last page (keyset)": await latency(
        client,
        `select ${live} from agents where deleted_at is null and (created_at, id) > (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', $2::uuid) order by created_at, id limit 200`,
        [cursor.at, cursor.id]
      ),
      "agents by state (metric)": await latency(client, "select state_path as state, count(*)::int as count from agents where deleted_at is null group by state_path", []),
      ...(await fleetViewLatencies(client, databaseUrl, cursor))
    }
  } finally {
    await client.end()
  }
}

/** GET /fleet/summary (its two statements) and filtered GET /agents pages, as the repository builds them. */
const fleetViewLatencies = async (client: pg.Client, databaseUrl: string, cursor: { at: string; id: string }) => {
  const statements = await compiled(databaseUrl, (sql) => ({
    groups: fleetQueries(sql).groups(),
    problems: fleetQueries(sql).problems(900),
    offline: agentQueries(sql).page({ problem: "offline", limit: 200, after: undefined }),
    failed: agentQueries(sql).page({ problem: "failed", limit: 200, after: undefined }),
    name: agentQueries(sql).page({ q: "gent 4242", limit: 200, after: undefined }),
    online: agentQueries(sql).page({ status: "online", limit: 200, after: `${cursor.at}.${cursor.id}` })
  }))
  const timed = (name: keyof typeof statements) => latency(client, statements[name][0], statements[name][1])
  return {
    "fleet summary (groups + problems)": (await timed("groups")) + (await timed("problems")),
    "list problem=offline (keyset)": await timed("offline"),
    "list problem=failed (keyset)": await timed("failed"),
    "list q (keyset)": await timed("name"),
    "list status=online last page (keyset)": await timed("online")
  }
}

const versionsWritten = async (databaseUrl: string) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return Number((await client.query<{ count: string }>("select count(*) from agents where version > 1 and role = 'worker'")).rows[0]!.count)
  } finally {
    await client.end()
  }
}

/**
 * Makes the cloned fleet what a running one is before a restart: the simulated gateway holds
 * every agent (so `agents.list` misses none) with the heartbeat it was configured with, and each
 * snapshot already carries that effective heartbeat (as the liveness watcher's `health` probe
 * left it). Without this the first reconciliation and probe would change every agent.
 */
const steadyState = async (databaseUrl: string, simulator: GatewaySimulator) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const effective = { enabled: true, every: HEARTBEAT.every, everyMs: 600_000, at: Date.now() }
    await client.query("update agents set snapshot = jsonb_set(snapshot, '{context,liveness,heartbeat}', $1::jsonb)", [JSON.stringify(effective)])
    const rows = (await client.query<{ gateway_agent_id: string }>("select gateway_agent_id from agents where deleted_at is null")).rows
    const agents = simulator.state.agents
    const config = simulator.state.config as { agents?: { entries?: Record<string, unknown> } }
    const entries = ((config.agents ??= {}).entries ??= {})
    for (const agent of agents.keys()) if (agent !== "main") agents.delete(agent)
    for (const { gateway_agent_id: id } of rows) {
      agents.set(id, { id, workspace: `/tmp/sy-fleet/${id}`, agentDir: `/tmp/sy-fleet/agents/${id}`, createdAt: 0, readyAt: 0 })
      entries[id] = { heartbeat: HEARTBEAT }
    }
  } finally {
    await client.end()
  }
}

const ms = (value: number) => `${Math.round(value)} ms`

/** Restore, first heartbeat, restore writes, settled RSS, idle CPU and timers of a service just spawned over `size` agents. */
const measureRestart = async (service: Service, databaseUrl: string, token: string, size: number, idleS: number, counter?: Awaited<ReturnType<typeof startSqlCounter>>) => {
  const readyAt = await ready(service)
  const readyCpu = usage(service.child.pid!).cpuS
  const beatAt = await until(service, "an accepted heartbeat", async () => {
    const response = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token, "content-type": "application/json" }, body: "{}" })
    return response.status === 200
  })
  const beatCpu = usage(service.child.pid!).cpuS
  // Settled: the versions restore writes (if any) stop changing for 3 s.
  let written = await versionsWritten(databaseUrl)
  for (let stable = 0; stable < 3 && performance.now() - service.startedAt < 600_000; ) {
    await sleep(1_000)
    const now = await versionsWritten(databaseUrl)
    stable = now === written ? stable + 1 : 0
    written = now
  }
  const settledAt = performance.now() - service.startedAt
  const settled = usage(service.child.pid!)
  const afterS = Number(process.env["FLEET_IDLE_AFTER_S"] ?? 30)
  await sleep(afterS * 1_000)
  const profileDir = process.env["FLEET_CPU_PROF"]
  if (profileDir !== undefined) service.child.kill("SIGTTIN")
  const textsFrom = await counter?.texts()
  const idleFrom = usage(service.child.pid!)
  const windowFromMs = performance.now() - service.startedAt
  await sleep(idleS * 1_000)
  const idle = usage(service.child.pid!)
  const windowToMs = performance.now() - service.startedAt
  const textsTo = await counter?.texts()
  if (profileDir !== undefined) {
    service.child.kill("SIGTTOU")
    await until(service, "the idle profile", async () => service.stderr().includes("[profile]"))
  }
  const { timers, memory } = await probe(service)
  if (process.env["FLEET_HEAP_SNAPSHOT"] !== undefined) {
    service.child.kill("SIGUSR1")
    await sleep(Math.max(10_000, size / 2))
  }
  console.log(`    restart → /readyz 200: ${ms(readyAt)}; → first accepted heartbeat: ${ms(beatAt)}; settled at ${ms(settledAt)}`)
  console.log(`    service CPU (s, user + system, from spawn): to /readyz ${readyCpu.toFixed(1)}; to first heartbeat ${beatCpu.toFixed(1)}; to settled ${settled.cpuS.toFixed(1)}`)
  console.log(`    restore wrote a new version of ${written.toLocaleString("en")} of ${size.toLocaleString("en")} agents (the one that heartbeated included)`)
  console.log(`    RSS after settling: ${settled.rssMiB.toFixed(0)} MiB; idle CPU over ${idleS} s from ${afterS} s after settling: ${((100 * (idle.cpuS - idleFrom.cpuS)) / idleS).toFixed(2)}% of a core (the ${afterS} s before: ${(idleFrom.cpuS - settled.cpuS).toFixed(1)} CPU s); RSS then ${idle.rssMiB.toFixed(0)} MiB; active timers: ${timers ?? "n/a"}`)
  console.log(`    memory after idling (MiB): ${memory}`)
  if (process.env["FLEET_STDOUT"] !== undefined) console.log(`    idle window: ${ms(windowFromMs)} to ${ms(windowToMs)} after spawn (the service's stdout: ${process.env["FLEET_STDOUT"]})`)
  if (textsFrom !== undefined && textsTo !== undefined) console.log(`    SQL over the idle window: ${statementRates(textsFrom, textsTo, idleS).join("\n      ")}`)
  if (profileDir !== undefined) console.log(`    idle profile: ${profileSummary(profileDir)}\n      ${profileTopFunctions(profileDir, 15).join("\n      ")}`)
  // The watcher's fleet-sized reads (`agents.list`, `health`) come once per reconciliation (docs/operations.md §8).
  const reconcileS = Number(/SWITCHYARD_RECONCILE_MS=(\d+)/.exec(process.env["FLEET_ENV"] ?? "")?.[1] ?? 300_000) / 1_000
  if (idleS < reconcileS) console.log(`    note: the idle window is shorter than a reconciliation period (${reconcileS} s): FLEET_IDLE_S=${reconcileS} includes one round`)
}


export const fleetScale = async () => {
  const root = process.env["FLEET_SERVICE_ROOT"] ?? path.resolve(HERE, "..")
  const sizes = (process.env["FLEET_SIZES"] ?? "10000,100000").split(",").map(Number)
  const idleS = Number(process.env["FLEET_IDLE_S"] ?? 20)
  console.log(`\nfleetScale: service from ${root}`)
  // Registering a gateway probes it; the cloned agents never call it.
  const simulator = await startGatewaySimulator()
  try {
    for (const [index, size] of sizes.entries()) {
      const db = await createTestDatabase()
      try {
        const empty = await spawnService(root, db.url)
        const ids = await (async () => {
          try {
            const emptyReady = await ready(empty)
            const gateway = await api(empty, "POST", "/api/v1/gateways", { name: "fleet", url: simulator.url, token: simulator.token, workspace_root: "/tmp/sy-fleet" })
            const board = await api(empty, "POST", "/api/v1/boards", { name: "fleet", gateway_id: gateway.body.id })
            if (gateway.status !== 201 || board.status !== 201) throw new Error(`setup failed: gateway ${gateway.status}, board ${board.status}`)
            if (index === 0) {
              await sleep(5_000)
              console.log(`  empty database: start to /readyz 200 ${ms(emptyReady)} (migrations included); idle RSS ${usage(empty.child.pid!).rssMiB.toFixed(0)} MiB`)
              console.log(`    memory (MiB): ${(await probe(empty)).memory}`)
            }
            return { gatewayId: gateway.body.id, boardId: board.body.id }
          } finally {
            await empty.stop()
          }
        })()

        const seeded = performance.now()
        const fleet = await seedOnlineFleet(db.url, { ...ids, count: size, policy })
        await steadyState(db.url, simulator)
        console.log(`  ${size.toLocaleString("en")} agents: cloned in ${ms(performance.now() - seeded)}`)

        const counter = process.env["FLEET_SQL_COUNT"] === "1" ? await startSqlCounter() : undefined
        const service = await spawnService(root, counter?.through(db.url) ?? db.url)
        try {
          await measureRestart(service, db.url, fleet.token, size, idleS, counter)
        } finally {
          await service.stop()
          await counter?.stop()
        }
        const latencies = await queryLatencies(db.url, ids, size)
        console.log(`    per-event queries (median of 15, ms): ${Object.entries(latencies).map(([name, value]) => `${name} ${value.toFixed(2)}`).join("; ")}`)
      } finally {
        await db.drop()
      }
    }
  } finally {
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await fleetScale()
