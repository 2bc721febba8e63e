import { Effect, Layer } from "effect"
import { Counter, Gauge } from "prom-client"
import { LocalAgents } from "../agents/LocalAgents.ts"
import { metricsRegistry } from "../observability/metrics.ts"
import { GatewayOwnership } from "./GatewayOwnership.ts"

const registers = [metricsRegistry]

interface RunnerCounts {
  readonly shards: () => number
  readonly gateways: () => number
}

/** What the gauges read at scrape time; set by `ClusterMetricsLive` (the last runner built in this process). */
let source: RunnerCounts | undefined

/** A gauge set at scrape time to `read` of this runner's counts (0 while no runner is built). */
const runnerGauge = (name: string, help: string, read: (counts: RunnerCounts) => number) =>
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(source === undefined ? 0 : read(source))
    }
  })

export const clusterShardsOwned = runnerGauge(
  "switchyard_cluster_shards_owned",
  "Shards whose lock this runner holds (of 300); its gateways are those whose id hashes to them.",
  (counts) => counts.shards()
)

export const clusterGatewaysHosted = runnerGauge(
  "switchyard_cluster_entities_hosted",
  "Gateway entities this runner hosts now: gateways whose agent actors, socket and jobs run here.",
  (counts) => counts.gateways()
)

export const clusterTakeovers = new Counter({
  name: "switchyard_cluster_takeovers_total",
  help: "Gateways this runner took over after its start (from a runner that stopped or died): activations that restored a gateway's actors after start-up.",
  registers
})

/** Points the cluster gauges at this runner (docs/operations.md "Cluster"). */
export const ClusterMetricsLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const ownership = yield* GatewayOwnership
    const local = yield* LocalAgents
    const mine = { shards: ownership.ownedShards, gateways: local.hostedCount }
    source = mine
    yield* Effect.addFinalizer(() => Effect.sync(() => void (source === mine && (source = undefined))))
  })
)
