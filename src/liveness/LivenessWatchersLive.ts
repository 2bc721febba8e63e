import { Context, Effect, Layer, Scope } from "effect"
import { GatewayHostedPrograms, type GatewayHostedProgram } from "../cluster/GatewayHosting.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayLivenessLive } from "./GatewayLiveness.ts"
import { watchGateway } from "./watchGateway.ts"

/**
 * The liveness watcher as a per-gateway program of the gateway entity (docs/operations.md §8):
 * the runner that owns a gateway watches it on the socket it holds, and the watcher moves with
 * the gateway. Off (no program) when `livenessWatchers` is off. Also provides the status the
 * watchers keep, which `GET /gateways/{id}/liveness` reads on the owner.
 */
export const LivenessWatchersLive = Layer.effect(
  GatewayHostedPrograms,
  Effect.gen(function* () {
    const config = yield* AppConfig
    if (!config.livenessWatchers) return []
    // Without the layer's own scope: the watcher's fibers live in the scope it is run in (the
    // gateway entity's), so they end when the gateway leaves or the watcher restarts.
    const context = Context.omit(Scope.Scope)(yield* Effect.context<Exclude<Effect.Effect.Context<ReturnType<typeof watchGateway>>, Scope.Scope>>())
    const watch: GatewayHostedProgram = (gatewayId) => Effect.provide(watchGateway(gatewayId), context)
    return [watch]
  })
).pipe(Layer.provideMerge(GatewayLivenessLive))
