import { Effect, Layer } from "effect"
import { Counter, Gauge } from "prom-client"
import { LocalAgents } from "../agents/LocalAgents.ts"
import { metricsRegistry } from "../observability/metrics.ts"
import { GatewayOwnership } from "./GatewayOwnership.ts"

const registers = [metricsRegistry]

/** What the gauges read at scrape time; set by `ClusterMetricsLive` (the last runner built in this process). */
let source: { readonly shards: () => number; readonly gateways: () => number } | undefined

export const clusterShardsOwned = new Gauge({
  name: "switchyard_cluster_shards_owned",
  help: "Shards whose lock this runner holds (of 300); its gateways are those whose id hashes to them.",
  registers,
  collect() {
    this.set(source?.shards() ?? 0)
  }
})

export const clusterGatewaysHosted = new Gauge({
  name: "switchyard_cluster_entities_hosted",
  help: "Gateway entities this runner hosts now: gateways whose agent actors, socket and jobs run here.",
  registers,
  collect() {
    this.set(source?.gateways() ?? 0)
  }
})

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
