/**
 * Bytes the service allocates per heartbeat, and where:
 * `npx tsx bench/heartbeatAlloc.ts [BASE_DIR] [--rounds N] [--rate R] [--seconds S] [--agents N] [--top N]`.
 *
 * One fleet is built (as `heartbeatCpuAB` builds it) and copied per checkout; each checkout's
 * `src/main.ts` runs with its `npm start` flags and `bench/allocProbe.mjs` preloaded, with one
 * SSE client attached (so the change feed and the stream's payloads are on the path). In each
 * round every checkout in turn (the order alternated round by round) is driven at a fixed rate
 * (open loop) while the probe records: V8's sampling heap profiler with collected objects kept
 * (an estimate of every byte allocated, by function), scavenges and mark-compacts, and the
 * process's CPU. Per run it prints bytes per answered heartbeat, scavenges per 1,000 heartbeats
 * and CPU ms per heartbeat; at the end the medians and each checkout's top allocation sites
 * (bytes per heartbeat, by package and by function). Counts, not wall time: robust on a busy
 * machine. docs/architecture.md §6.5.
 */
import { existsSync, readFileSync, rmSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { createTestDatabase } from "../test/support/database.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { flag, percentile, startFlags } from "./common.ts"
import { abFleet, startAt } from "./heartbeatCpuAB.ts"
import { child, lines, load, serviceEnv } from "./heartbeatThroughput.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, "..")
const PROBE = path.join(HERE, "allocProbe.mjs")
const HEARTBEAT = "/api/v1/agent/heartbeat"
const ADMIN = "test-admin-token-0123456789"
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

interface AllocProbe {
  readonly sampled: number
  readonly scavenges: number
  readonly marks: number
  readonly cpuMs: number
  readonly sites: ReadonlyArray<[string, string, string, number]>
  readonly paths: ReadonlyArray<[string, number]>
}

interface Run {
  readonly ok: number
  readonly probe: AllocProbe
}

/** One recorded window on a running service: the probe's figures and the heartbeats answered 2xx. */
const record = async (service: { url: string; pid: number }, out: string, tokens: ReadonlyArray<string>, rate: number, seconds: number): Promise<Run> => {
  rmSync(out, { force: true })
  process.kill(service.pid, "SIGUSR2")
  await sleep(100)
  const result = await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate, seconds, inFlight: 512 })
  await sleep(500)
  process.kill(service.pid, "SIGUSR2")
  for (let tries = 0; tries < 100 && !existsSync(out); tries++) await sleep(100)
  await sleep(200)
  return { ok: result.ok, probe: JSON.parse(readFileSync(out, "utf8")) as AllocProbe }
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1)

/** The top sites over `runs`, in bytes per heartbeat, by package and by function. */
const sites = (label: string, runs: ReadonlyArray<Run>, top: number) => {
  const heartbeats = runs.reduce((sum, run) => sum + run.ok, 0)
  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, number>()
  for (const run of runs)
    for (const [pkg, fn, where, bytes] of run.probe.sites) {
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytes)
      const key = `${pkg} ${fn} ${where}`
      byFunction.set(key, (byFunction.get(key) ?? 0) + bytes)
    }
  const show = (map: Map<string, number>, count: number) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([key, bytes]) => `    ${kib(bytes / heartbeats).padStart(7)} KiB  ${key}`).join("\n")
  console.log(`  ${label}: by package (KiB per heartbeat)\n${show(byPackage, 12)}\n  ${label}: by function\n${show(byFunction, top)}`)
}

const main = async () => {
  const targets = [...process.argv.slice(2).filter((arg, i, all) => !arg.startsWith("--") && !all[i - 1]?.startsWith("--")).map((dir) => path.resolve(dir)), ROOT]
  const rounds = flag("--rounds", 4)
  const rate = flag("--rate", 1_000)
  const seconds = flag("--seconds", 4)
  const agents = flag("--agents", 1_000)
  const top = flag("--top", 30)
  const simulator = await startGatewaySimulator({ latencyMs: 1 })
  const db = await createTestDatabase()
  const cleanup: Array<() => Promise<void>> = []
  try {
    const tokens = await abFleet(db.url, simulator, agents)
    const services = []
    for (const [i, root] of targets.entries()) {
      const copy = await createTestDatabase({ template: db.url })
      cleanup.push(copy.drop)
      const out = `/tmp/allocprobe-${process.pid}-${i}.json`
      const service = await startAt(root, { ...serviceEnv(copy.url), ALLOC_OUT: out }, [...startFlags(root), `--import=${PROBE}`])
      cleanup.push(service.stop)
      const client = child("sseClient.ts", [service.url, ADMIN])
      cleanup.push(async () => void client.kill())
      if ((await lines(client)()) !== "ready") throw new Error("SSE client did not start")
      services.push({ root, service, out, runs: [] as Run[] })
    }
    for (const { service } of services) await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate, seconds: 3, inFlight: 512 })
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? services : [...services].reverse()
      for (const entry of order) {
        const run = await record(entry.service, entry.out, tokens, rate, seconds)
        entry.runs.push(run)
        const { sampled, scavenges, marks, cpuMs } = run.probe
        const load1 = readFileSync("/proc/loadavg", "utf8").split(" ")[0]
        console.log(
          `  round ${round + 1} ${entry.root}: ${run.ok} heartbeats, ${kib(sampled / run.ok)} KiB/heartbeat, ${((scavenges * 1000) / run.ok).toFixed(1)} scavenges and ${((marks * 1000) / run.ok).toFixed(2)} mark-compacts per 1,000, ${(cpuMs / run.ok).toFixed(3)} CPU ms/heartbeat (load ${load1})`
        )
      }
    }
    for (const { root, runs } of services) {
      const median = (pick: (run: Run) => number) => percentile(runs.map(pick), 50)
      console.log(
        `heartbeatAlloc ${root}: ${runs.length} runs at ${rate}/s, ${agents} agents: median ${kib(median((r) => r.probe.sampled / r.ok))} KiB/heartbeat, ` +
          `${median((r) => (r.probe.scavenges * 1000) / r.ok).toFixed(1)} scavenges per 1,000, ${median((r) => r.probe.cpuMs / r.ok).toFixed(3)} CPU ms/heartbeat`
      )
      sites(root, runs, top)
      const last = runs.at(-1)
      // With `ALLOC_PATHS` set (bench/allocProbe.mjs): the call paths to those sites in the last run.
      for (const [where, bytes] of last?.probe.paths ?? []) console.log(`    ${kib(bytes / last!.ok).padStart(7)} KiB  ${where}`)
    }
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined)
    await db.drop()
    await simulator.stop()
  }
}

await main()
