import { Context, type Effect, Layer, type Scope } from "effect"

/**
 * A program that runs for one gateway on its owner only, for as long as the owner hosts it
 * (forked in the gateway entity's scope, interrupted when the gateway moves). Later per-gateway
 * work (e.g. gateway-signal watchers) plugs in by adding one to `GatewayHostedPrograms`. A program
 * that ends by itself (the liveness watcher, finding its gateway's row gone) makes the entity
 * check the row and, if it is gone, let the gateway go (docs/architecture.md §11).
 */
export type GatewayHostedProgram = (gatewayId: string) => Effect.Effect<void, never, Scope.Scope>

/** The per-gateway programs the owner runs beside the gateway's actors (docs/architecture.md "Cluster"). */
export class GatewayHostedPrograms extends Context.Tag("switchyard/GatewayHostedPrograms")<GatewayHostedPrograms, ReadonlyArray<GatewayHostedProgram>>() {}

/** No per-gateway programs (tests that run the entity without watchers). */
export const GatewayHostedProgramsNone = Layer.succeed(GatewayHostedPrograms, [])

/** What this runner's gateway entities did: activations, and those that took a gateway over after this runner was ready. */
export interface ClusterStatsShape {
  activations: number
  takeovers: number
  /** Set once this runner restored the gateways it owned at start (readiness); later activations are takeovers. */
  started: boolean
}

export class ClusterStats extends Context.Tag("switchyard/ClusterStats")<ClusterStats, ClusterStatsShape>() {}

export const ClusterStatsLive = Layer.sync(ClusterStats, (): ClusterStatsShape => ({ activations: 0, takeovers: 0, started: false }))
