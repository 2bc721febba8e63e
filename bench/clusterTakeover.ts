/**
 * Two runners on one database of the machine's Postgres, one simulated gateway (docs/operations.md
 * "Cluster"). The services run as processes of their own; heartbeat load comes from
 * `loadGenerator.ts` in another process. Prints:
 * - heartbeat latency p50/p99 sent to the gateway's owner and to the other runner (open loop,
 *   `--rate` a second for `--seconds`; default 25/s, below what a non-owner sustains on a busy
 *   two-core machine, so it measures latency rather than a queue);
 * - heartbeats/s through the non-owner as a ratio of those through the owner (closed loop,
 *   `--in-flight` outstanding);
 * - takeover after SIGKILL of the owner (kill → first 200 through the survivor; bounded by the
 *   shard-lock expiry, `--lock-expiry-ms`, default 5000) and after SIGTERM (drain and release),
 *   `--takeovers N` times each (default 3);
 * - random SIGKILL trials under load (`test/support/cluster/clusterKillTrials.ts`), `--trials N`
 *   (default 20): accepted events lost, agents not settled, 500 answers.
 * `--agents N` (default 20).
 */
import { spawn } from "node:child_process"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { heartbeat } from "../test/support/cluster/clusterFleet.ts"
import { startClusterKillTrials, type ClusterKillTrialReport } from "../test/support/cluster/clusterKillTrials.ts"
import { ownedFleet, type OwnedFleet } from "../test/support/cluster/ownedFleet.ts"
import { poll } from "../test/support/cluster/poll.ts"
import { startCluster, type TestCluster } from "../test/support/cluster/startCluster.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { percentile } from "./common.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}
const step = (text: string) => process.stderr.write(`  [clusterTakeover] ${text}\n`)

interface LoadResult {
  readonly ok: number
  readonly failed: number
  readonly rate: number
  readonly p50: number
  readonly p99: number
}

/** One run of the load generator process (see `loadGenerator.ts`). */
const load = (job: Record<string, unknown>): Promise<LoadResult> =>
  new Promise((resolve, reject) => {
    const generator = spawn(process.execPath, [path.join(HERE, "loadGenerator.ts")], { stdio: ["pipe", "pipe", "inherit"] })
    const out: Array<Buffer> = []
    generator.stdout.on("data", (chunk: Buffer) => out.push(chunk))
    generator.once("exit", (code) => (code === 0 ? resolve(JSON.parse(Buffer.concat(out).toString("utf8")) as LoadResult) : reject(new Error(`load generator exited ${code}`))))
    generator.stdin.end(JSON.stringify(job))
  })

/** Re-reads who owns the fleet's gateway (ownership may move when a runner rejoins). */
const currentOwner = async (cluster: TestCluster, fleet: OwnedFleet) => {
  const found = await poll(
    async () => (await cluster.service(0).api("GET", "/api/v1/cluster")).body?.gateways?.find((entry: { gateway_id: string }) => entry.gateway_id === fleet.gatewayId)?.runner as string | undefined,
    (runner) => runner !== undefined && cluster.byRunner(runner) !== undefined,
    60_000
  )
  const owner = cluster.byRunner(found.value ?? "")
  if (owner === undefined) throw new Error(`no owner of ${fleet.gatewayId}`)
  return { owner, other: cluster.nodes.find((node) => node !== owner)! }
}

/** Stops the owner with `signal`; ms until the survivor answers a heartbeat 200. Restarts it after. */
const takeover = async (cluster: TestCluster, fleet: OwnedFleet, signal: NodeJS.Signals, boundMs: number) => {
  const { owner, other } = await currentOwner(cluster, fleet)
  const token = fleet.agents[0]!.token
  const survivor = cluster.service(other.index)
  const started = Date.now()
  const stopping = cluster.stop(owner.index, signal)
  const served = await poll(() => heartbeat(survivor.url, token, 15_000), (answer) => answer.status === 200, boundMs, 50)
  await stopping
  await cluster.start(owner.index)
  // Let the restarted runner join and the shards settle before the next measurement.
  await poll(async () => (await cluster.service(0).api("GET", "/api/v1/cluster")).body?.runners?.length as number, (count) => count === cluster.nodes.length, 30_000)
  return served.acceptedAt === undefined ? Number.NaN : served.acceptedAt - started
}

export const clusterTakeover = async () => {
  const agents = flag("--agents", 20)
  const seconds = flag("--seconds", 5)
  const rate = flag("--rate", 25)
  const inFlight = flag("--in-flight", 32)
  const takeovers = flag("--takeovers", 3)
  const trials = flag("--trials", 20)
  const lockExpiryMs = flag("--lock-expiry-ms", 5_000)

  step(`starting two runners and ${agents} agents`)
  const cluster = await startCluster({ shardLockExpirationMs: lockExpiryMs, env: { SWITCHYARD_OFFLINE_AFTER_MS: "3600000", SWITCHYARD_CHECKIN_TIMEOUT_MS: "3600000" } })
  const simulator = await startGatewaySimulator()
  const killed: Array<number> = []
  const termed: Array<number> = []
  const figures: Array<string> = []
  try {
    const fleet = await ownedFleet(cluster, simulator, agents)
    const tokens = fleet.agents.map((agent) => agent.token)
    const job = (url: string, mode: "open" | "closed") => ({ mode, url, path: "/api/v1/agent/heartbeat", tokens, rate, inFlight, seconds })
    const { owner, other } = await currentOwner(cluster, fleet)
    step("latency (open loop) and throughput (closed loop), owner then non-owner")
    await load({ ...job(cluster.service(owner.index).url, "closed"), seconds: 1 }) // warm-up
    const sameLatency = await load(job(cluster.service(owner.index).url, "open"))
    const crossLatency = await load(job(cluster.service(other.index).url, "open"))
    const sameRate = await load(job(cluster.service(owner.index).url, "closed"))
    const crossRate = await load(job(cluster.service(other.index).url, "closed"))
    figures.push(
      `  heartbeat latency at ${rate}/s, sent to the owner: p50 ${sameLatency.p50.toFixed(1)} ms, p99 ${sameLatency.p99.toFixed(1)} ms (${sameLatency.failed} failed)`,
      `  heartbeat latency at ${rate}/s, sent to the non-owner: p50 ${crossLatency.p50.toFixed(1)} ms, p99 ${crossLatency.p99.toFixed(1)} ms (${crossLatency.failed} failed)`,
      `  heartbeats/s (${inFlight} in flight): owner ${sameRate.rate.toFixed(0)}, non-owner ${crossRate.rate.toFixed(0)}, ratio ${(crossRate.rate / sameRate.rate).toFixed(2)}`
    )
    for (let i = 0; i < takeovers; i++) {
      step(`takeover ${i + 1}/${takeovers}: SIGKILL, then SIGTERM`)
      killed.push(await takeover(cluster, fleet, "SIGKILL", lockExpiryMs + 60_000))
      termed.push(await takeover(cluster, fleet, "SIGTERM", 60_000))
    }
  } finally {
    await cluster.close()
    await simulator.stop()
  }
  const describe = (values: Array<number>) => `${values.map((value) => `${value} ms`).join(", ")} (p50 ${percentile(values, 50)} ms)`
  if (takeovers > 0) figures.push(`  takeover after SIGKILL of the owner (lock expiry ${lockExpiryMs} ms): ${describe(killed)}`, `  takeover after SIGTERM of the owner: ${describe(termed)}`)

  const reports: Array<ClusterKillTrialReport> = []
  if (trials > 0) {
    step(`${trials} random SIGKILL trials under load`)
    const session = await startClusterKillTrials({ agents: 4, workers: 4, killAfterMs: [300, 3000], settleTimeoutMs: 30_000 })
    try {
      for (let i = 0; i < trials; i++) {
        const report = await session.run()
        reports.push(report)
        step(`trial ${report.trial}: killed node ${report.killed}${report.killedOwner ? " (owner)" : ""}, accepted ${report.acceptedTotal}, refused ${JSON.stringify(report.refused)}, lost ${report.lost.length}, unsettled ${report.halfDone.length}, recovered in ${report.recoveryMs} ms`)
        for (const line of [...report.lost, ...report.halfDone]) step(`    ${line}`)
      }
    } finally {
      await session.stop()
    }
  }
  const total = (pick: (report: ClusterKillTrialReport) => number) => reports.reduce((sum, report) => sum + pick(report), 0)
  console.log("cluster: two runners, one simulated gateway (real processes, machine's Postgres)")
  for (const line of figures) console.log(line)
  if (reports.length > 0) {
    console.log(`  random SIGKILL trials under load: ${reports.length} (owner killed in ${reports.filter((report) => report.killedOwner).length})`)
    console.log(`    accepted requests: ${total((report) => report.acceptedTotal)}, accepted events lost: ${total((report) => report.lost.length)}`)
    console.log(`    agents not settled after the restart: ${total((report) => report.halfDone.length)}, 500 answers: ${total((report) => report.refused["500"] ?? 0)}, 503 answers: ${total((report) => report.refused["503"] ?? 0)}`)
    console.log(`    401 answers for a token the workspace held: ${total((report) => report.refused["401"] ?? 0)}, for a token an update rotated during the request: ${total((report) => report.refused["401 (token rotated meanwhile)"] ?? 0)}`)
    console.log(`    recovery (restart → every agent online): p50 ${percentile(reports.map((report) => report.recoveryMs), 50)} ms, max ${Math.max(...reports.map((report) => report.recoveryMs))} ms`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await clusterTakeover()
