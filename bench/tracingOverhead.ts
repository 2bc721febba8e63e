/**
 * What tracing costs on the request path. The real service (`src/main.ts`) runs as a child
 * process; this process is the load generator (and the gateway simulator, and an OTLP sink).
 * Each round starts, in turn, one service per variant on a fresh database, warms it up, then
 * measures requests/s, the service's CPU time per request (steadier than requests/s on a busy
 * machine) and p50/p99 of
 *   - `GET /healthz` (the HTTP kernel alone: 4 000 requests, 16 in flight), and
 *   - `POST /api/v1/agents/:id/heartbeat` (a transition and a snapshot write: 800 requests, 8 in flight).
 * Variants: `off` (this checkout, OTEL_EXPORTER_OTLP_ENDPOINT unset), `on` (this checkout,
 * exporting to an in-process sink), and `baseline` (another checkout, e.g. the commit before
 * tracing, variable unset) when its directory is given:
 *
 *   tsx bench/tracingOverhead.ts [baseline-checkout-dir] [rounds=3]
 *
 * Figures are the median over rounds, so one noisy round on a shared machine does not decide.
 * Last, in this process, the only code tracing adds to the request path when it is off:
 * `continueTrace` around a forked effect (once per program and per snapshot write), against the
 * bare fork, µs per call over 100 000 calls.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer as createHttpServer } from "node:http"
import { freePort } from "../test/support/freePort.ts"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { callerSpan, continueTrace } from "../src/observability/tracing.ts"
import { createTestDatabase } from "../test/support/database.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { percentile, pool } from "./common.ts"

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const ADMIN = "bench-admin-token-0123456789"

interface Figures {
  /** CPU time the service process spent per request, ms (user + system, from /proc). */
  readonly cpuMs: number
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
}

/** The service of checkout `root` on a fresh database; resolves once `/readyz` is 200. */
const startService = async (root: string, env: Record<string, string>) => {
  const db = await createTestDatabase()
  const dataDir = mkdtempSync(path.join(tmpdir(), "sy-bench-otel-"))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), DATABASE_URL: db.url, SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_ADMIN_TOKEN: ADMIN, SWITCHYARD_BASE_URL: url },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  // Logs are read (and dropped) as in production, where stdout goes to a collector.
  child.stdout.on("data", () => {})
  child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  for (const deadline = Date.now() + 90_000; ; ) {
    if (child.exitCode !== null) throw new Error(`service exited early: ${output}`)
    if (await fetch(`${url}/readyz`).then((response) => response.status === 200, () => false)) break
    if (Date.now() > deadline) throw new Error(`service not ready: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    /** CPU time the service process has used so far, ms (Linux /proc; clock ticks of 10 ms). */
    cpuMs: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
      return (Number(fields[11]) + Number(fields[12])) * 10
    },
    stop: async () => {
      child.kill("SIGTERM")
      await exited
      await db.drop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

const api = async (url: string, method: string, route: string, body?: unknown) => {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: response.status, body: (await response.json()) as { id: string } }
}

/** `count` requests made by `request`, `inFlight` at a time: requests/s and latency (ms). */
const load = async (count: number, inFlight: number, request: () => Promise<Response>, cpuMs: () => number): Promise<Figures> => {
  const latencies: number[] = []
  const cpuBefore = cpuMs()
  const started = performance.now()
  await pool(count, inFlight, async () => {
    const at = performance.now()
    const response = await request()
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`status ${response.status}`)
    latencies.push(performance.now() - at)
  })
  const seconds = (performance.now() - started) / 1000
  return { cpuMs: (cpuMs() - cpuBefore) / count, perSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

const median = (values: ReadonlyArray<number>) => percentile(values, 50)

/** µs per call of forking `Effect.void` bare, and through `continueTrace` (no tracer installed). */
const continueTraceCost = async () => {
  const calls = 100_000
  const perCall = async (fork: () => unknown) => {
    const started = performance.now()
    for (let i = 0; i < calls; i++) fork()
    await new Promise((resolve) => setTimeout(resolve, 0))
    return ((performance.now() - started) * 1000) / calls
  }
  const bare: number[] = []
  const traced: number[] = []
  for (let round = 0; round < 5; round++) {
    bare.push(await perCall(() => Effect.runFork(Effect.void)))
    traced.push(await perCall(() => Effect.runFork(Effect.void.pipe(continueTrace(callerSpan(), { span: "Agents.persistSnapshot", attributes: { agent_id: "a" } })))))
  }
  console.log(`  continueTrace with tracing off: ${median(traced).toFixed(2)} µs per forked effect, bare fork ${median(bare).toFixed(2)} µs (median of 5 × ${calls})`)
}

export const tracingOverhead = async (baseline?: string, rounds = 3) => {
  // "Unset" variants must not inherit the variable from this shell.
  delete process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
  const simulator = await startGatewaySimulator()
  // An OTLP collector that takes everything and keeps nothing.
  let exported = 0
  const sink = createHttpServer((request, response) => {
    request.on("data", (chunk: Buffer) => void (exported += chunk.length))
    request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end("{}"))
  })
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve))
  const sinkPort = (sink.address() as { port: number }).port
  const variants: Array<{ name: string; root: string; env: Record<string, string> }> = [
    ...(baseline === undefined ? [] : [{ name: "baseline (unset)", root: path.resolve(baseline), env: {} }]),
    { name: "off (unset)", root: HERE, env: {} },
    { name: "on (exporting)", root: HERE, env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}` } }
  ]
  const results = new Map<string, { healthz: Figures[]; heartbeat: Figures[] }>(variants.map((variant) => [variant.name, { healthz: [], heartbeat: [] }]))
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const service = await startService(variant.root, variant.env)
      try {
        const gateway = await api(service.url, "POST", "/api/v1/gateways", { name: "Bench", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
        const board = await api(service.url, "POST", "/api/v1/boards", { name: `bench-${round}`, gateway_id: gateway.body.id })
        const agent = await api(service.url, "POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: `bench-${round}-${variant.name.split(" ")[0]}`, board_id: board.body.id })
        if (agent.status !== 201) throw new Error(`agent not created: ${JSON.stringify(agent.body)}`)
        const healthz = () => fetch(`${service.url}/healthz`)
        const heartbeat = () =>
          fetch(`${service.url}/api/v1/agents/${agent.body.id}/heartbeat`, {
            method: "POST",
            headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
            body: "{}"
          })
        await load(500, 16, healthz, service.cpuMs)
        await load(100, 8, heartbeat, service.cpuMs)
        const figures = results.get(variant.name)!
        figures.healthz.push(await load(4_000, 16, healthz, service.cpuMs))
        figures.heartbeat.push(await load(800, 8, heartbeat, service.cpuMs))
        const last = (list: Figures[]) => `${list.at(-1)!.perSecond.toFixed(0)}/s ${list.at(-1)!.cpuMs.toFixed(2)} ms CPU`
        console.log(`round ${round} ${variant.name}: healthz ${last(figures.healthz)}, heartbeat ${last(figures.heartbeat)}`)
      } finally {
        await service.stop()
      }
    }
  }
  console.log(`\ntracing overhead, median of ${rounds} rounds (requests/s, service CPU ms per request, p50 ms, p99 ms):`)
  for (const [name, figures] of results) {
    const line = (list: Figures[]) =>
      `${median(list.map((f) => f.perSecond)).toFixed(0)}/s cpu ${median(list.map((f) => f.cpuMs)).toFixed(3)} p50 ${median(list.map((f) => f.p50)).toFixed(2)} p99 ${median(list.map((f) => f.p99)).toFixed(2)}`
    console.log(`  ${name.padEnd(18)} GET /healthz ${line(figures.healthz)} | heartbeat ${line(figures.heartbeat)}`)
  }
  console.log(`  (the sink received ${(exported / 1024).toFixed(0)} KiB of OTLP/JSON)`)
  sink.close()
  await simulator.stop()
  await continueTraceCost()
}

if (import.meta.url === `file://${process.argv[1]}`) await tracingOverhead(process.argv[2], Number(process.argv[3] ?? 3))
