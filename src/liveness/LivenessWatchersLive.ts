import { Effect, FiberMap, Layer, Schedule } from "effect"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayLiveness, GatewayLivenessLive } from "./GatewayLiveness.ts"
import { watchGateway } from "./watchGateway.ts"

/** How often the stored gateways are read to start watchers for new ones and stop those of removed ones. */
const GATEWAYS_POLL_MS = 5_000

/**
 * One liveness watcher per stored gateway (docs/operations.md §7), started for gateways added
 * later and restarted when a gateway's url or token changes; a gateway being deleted or removed
 * loses its watcher. In a cluster, the gateway's entity runs `watchGateway` instead.
 */
const Watchers = Layer.scopedDiscard(
  Effect.gen(function* () {
    const gateways = yield* GatewayRepo
    const registry = yield* GatewayLiveness
    const watchers = yield* FiberMap.make<string>()
    const running = new Map<string, number>()
    const sweep = Effect.gen(function* () {
      const rows = yield* gateways.list
      const wanted = new Map(rows.filter((row) => row.deletingAt === null).map((row) => [row.id, row.updatedAt.getTime()]))
      for (const [gatewayId, version] of running) {
        if (wanted.get(gatewayId) === version) continue
        running.delete(gatewayId)
        yield* FiberMap.remove(watchers, gatewayId)
        if (!wanted.has(gatewayId)) yield* registry.forget(gatewayId)
      }
      for (const [gatewayId, version] of wanted) {
        if (running.has(gatewayId)) continue
        running.set(gatewayId, version)
        yield* FiberMap.run(watchers, gatewayId, Effect.scoped(watchGateway(gatewayId)))
      }
    }).pipe(Effect.catchAll((error) => Effect.logWarning(`liveness: reading the gateways failed: ${error.message}`)))
    yield* sweep.pipe(Effect.repeat(Schedule.spaced(GATEWAYS_POLL_MS)), Effect.forkScoped)
  })
)

/** The watchers (when `livenessWatchers` is on) and the status they keep, which the API reads. */
export const LivenessWatchersLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => (config.livenessWatchers ? Watchers : Layer.empty))
).pipe(Layer.provideMerge(GatewayLivenessLive))
