/**
 * Service CPU per durable heartbeat, this checkout (B) against another (A, e.g. a worktree of
 * main): `npx tsx bench/heartbeatCpuAB.ts A_DIR [--rounds N] [--rate R] [--seconds S] [--agents N]`.
 *
 * One fleet is built (as `heartbeatThroughput` builds it), its database copied twice, and each
 * checkout's `src/main.ts` started on its own copy against the same simulator. In each round
 * both services are driven at the same time, at the same fixed rate (open loop), so they share
 * the machine's load; the figure is each process's CPU (user + system, from /proc) per answered
 * heartbeat, and the round's ratio B / A. The rounds' median ratio is the result: robust on a
 * busy machine where absolute figures are not.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { appendFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { createTestDatabase } from "../test/support/database.ts"
import { freePort } from "../test/support/freePort.ts"
import { startService } from "../test/support/serviceProcess.ts"
import { type GatewaySimulator, startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { flag, percentile } from "./common.ts"
import { cloneFleet, load, provisionOne, seedSimulator, serviceEnv } from "./heartbeatThroughput.ts"
import { cpuMs } from "./processStats.ts"

const HERE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const HEARTBEAT = "/api/v1/agent/heartbeat"
/** One key for every service of the run: the copies hold gateway secrets the provisioning service encrypted. */
export const SECRET_KEY = randomBytes(32).toString("base64")

/**
 * The fleet an A/B bench starts its builds on: one agent provisioned by a service of this checkout
 * on `simulator`, cloned to `agents` rows in `databaseUrl`, and the simulator told of them. Answers
 * the agents' tokens.
 */
export const abFleet = async (databaseUrl: string, simulator: GatewaySimulator, agents: number) => {
  const provisioning = await startService({ ...serviceEnv(databaseUrl), SWITCHYARD_SECRET_KEY: SECRET_KEY })
  const template = await provisionOne(provisioning, simulator)
  await provisioning.kill("SIGTERM")
  const tokens = await cloneFleet(databaseUrl, template, agents)
  await seedSimulator(databaseUrl, simulator)
  return tokens
}
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** `src/main.ts` of checkout `root` as a child process (with Node `flags`); answers its url, pid and stop once `/readyz` is 200. */
export const startAt = async (root: string, env: Record<string, string>, flags: ReadonlyArray<string> = []) => {
  const port = await freePort()
  const child = spawn(process.execPath, [...flags, "src/main.ts"], {
    cwd: root,
    env: { ...process.env, SWITCHYARD_SECRET_KEY: SECRET_KEY, SWITCHYARD_ADMIN_TOKEN: "test-admin-token-0123456789", SWITCHYARD_BASE_URL: `http://127.0.0.1:${port}`, ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const output: string[] = []
  // BENCH_SERVICE_LOG=FILE: the service's output (e.g. `--trace-gc-nvp` lines) is also appended to FILE.
  const log = process.env["BENCH_SERVICE_LOG"]
  if (log !== undefined) child.stdout?.on("data", (chunk: Buffer) => appendFileSync(log, chunk))
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`service in ${root} exited early:\n${output.join("").slice(-3_000)}`)
    if (await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)) break
    if (tries > 600) throw new Error(`service in ${root} not ready:\n${output.join("").slice(-3_000)}`)
    await sleep(100)
  }
  return { url, pid: child.pid!, stop: () => new Promise<void>((resolve) => (child.once("exit", () => resolve()), child.kill("SIGTERM"))) }
}

/** Runs the A/B and prints each round and the median ratio. */
export const heartbeatCpuAB = async (baseRoot: string) => {
  const rounds = flag("--rounds", 6)
  const rate = flag("--rate", 300)
  const seconds = flag("--seconds", 6)
  const agents = flag("--agents", 1_000)
  const simulator = await startGatewaySimulator({ latencyMs: 1 })
  const db = await createTestDatabase()
  const copies: Array<{ drop: () => Promise<void> }> = []
  const services: Array<{ stop: () => Promise<void> }> = []
  try {
    const tokens = await abFleet(db.url, simulator, agents)
    const sizes = new pg.Client({ connectionString: db.url })
    await sizes.connect()
    const { rows } = await sizes.query<{ bytes: number }>("select avg(length(snapshot::text))::int as bytes from agents")
    await sizes.end()
    console.log(`  snapshot JSON: ${rows[0]?.bytes ?? 0} bytes on average`)
    const copyA = await createTestDatabase({ template: db.url })
    copies.push(copyA)
    const copyB = await createTestDatabase({ template: db.url })
    copies.push(copyB)
    const a = await startAt(baseRoot, serviceEnv(copyA.url))
    services.push(a)
    const b = await startAt(HERE_ROOT, serviceEnv(copyB.url))
    services.push(b)
    await sleep(5_000)
    const drive = (url: string, secs: number) => load({ mode: "open", url, path: HEARTBEAT, tokens, rate, seconds: secs, inFlight: 512 })
    await Promise.all([drive(a.url, 3), drive(b.url, 3)])
    const ratios: number[] = []
    const netRatios: number[] = []
    for (let round = 0; round < rounds; round++) {
      // Each service's idle CPU (its own timers and reads, ms per ms) in a quiet window before the load.
      const idleFromA = cpuMs(a.pid)
      const idleFromB = cpuMs(b.pid)
      const idleStarted = performance.now()
      await sleep(2_000)
      const idleMs = performance.now() - idleStarted
      const idleA = (cpuMs(a.pid) - idleFromA) / idleMs
      const idleB = (cpuMs(b.pid) - idleFromB) / idleMs
      const fromA = cpuMs(a.pid)
      const fromB = cpuMs(b.pid)
      const started = performance.now()
      const [ranA, ranB] = await Promise.all([drive(a.url, seconds), drive(b.url, seconds)])
      const loadMs = performance.now() - started
      const usedA = cpuMs(a.pid) - fromA
      const usedB = cpuMs(b.pid) - fromB
      const perA = usedA / Math.max(1, ranA.ok)
      const perB = usedB / Math.max(1, ranB.ok)
      // Beyond idle: the heartbeats' own CPU.
      const netA = (usedA - idleA * loadMs) / Math.max(1, ranA.ok)
      const netB = (usedB - idleB * loadMs) / Math.max(1, ranB.ok)
      ratios.push(perB / perA)
      netRatios.push(netB / netA)
      console.log(
        `  round ${round + 1}: A ${perA.toFixed(3)} ms/heartbeat, ${netA.toFixed(3)} beyond idle (${ranA.ok} ok, ${ranA.failed} failed, p99 ${ranA.p99.toFixed(1)} ms), ` +
          `B ${perB.toFixed(3)}, ${netB.toFixed(3)} beyond idle (${ranB.ok} ok, ${ranB.failed} failed, p99 ${ranB.p99.toFixed(1)} ms); B/A ${(perB / perA).toFixed(3)}, beyond idle ${(netB / netA).toFixed(3)}`
      )
    }
    const summary = (values: ReadonlyArray<number>) => `median ${percentile(values, 50).toFixed(3)} (min ${Math.min(...values).toFixed(3)}, max ${Math.max(...values).toFixed(3)})`
    console.log(`heartbeatCpuAB: ${rounds} paired rounds at ${rate}/s each, ${agents} agents: B/A CPU per heartbeat ${summary(ratios)}; beyond idle ${summary(netRatios)}`)
  } finally {
    for (const service of services) await service.stop()
    for (const copy of copies) await copy.drop()
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const base = process.argv[2]
  if (base === undefined || base.startsWith("--")) throw new Error("usage: heartbeatCpuAB.ts BASE_CHECKOUT_DIR [--rounds N] [--rate R] [--seconds S] [--agents N]")
  await heartbeatCpuAB(path.resolve(base))
}
