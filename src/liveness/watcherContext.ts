import { Deferred, Effect } from "effect"
import type { LivenessEvent } from "../../machines/agent/livenessTypes.ts"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import { AgentSystem, type AgentSystemShape } from "../agents/AgentSystem.ts"
import { loadGateway } from "../agents/programs/loadGateway.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient, type GatewayClientShape, type GatewayTarget } from "../gateway/GatewayClient.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { GatewayLiveness, type GatewayLivenessShape } from "./GatewayLiveness.ts"
import { RosterCache } from "./RosterCache.ts"

/** A watcher's own calls are probes: they get a short timeout, never the lifecycle's. */
const PROBE_TIMEOUT_MS = 10_000
/** Fewest ms between two roster reads caused by signals for agents not (yet) in it. */
const ROSTER_RELOAD_MS = 5_000

/**
 * What the parts of one gateway's liveness watcher share (docs/operations.md §8): its services,
 * the gateway's target as last read, what the socket's gateway offers, and the roster of our
 * agents on it. One per watcher; its mutable fields are the watcher's own state.
 */
export interface WatcherContext {
  readonly gatewayId: string
  readonly labels: { readonly gateway_id: string }
  readonly client: GatewayClientShape
  readonly system: AgentSystemShape
  readonly registry: GatewayLivenessShape
  /** Options of every call the watcher makes itself (a probe's timeout, ms). */
  readonly probeOptions: { readonly timeoutMs: number }
  readonly roster: RosterCache
  /**
   * The gateway's url and token as last read, pinned (`GatewayTarget.generation`): after a
   * `forget` its calls fail as `retargeted` until `refreshTarget`, never reaching the old address.
   */
  target: GatewayTarget
  /** Whether the socket's gateway offers `health` and the one-row reachability read (from the last `hello-ok`). */
  offers: { readonly health: boolean; readonly reach: boolean }
  /** Completed when a read of the target found the gateway's row gone: the watcher ends (docs/architecture.md §11). */
  readonly gone: Deferred.Deferred<void>
  /**
   * Reads the target again (a PATCHed url or token), pinned anew; a failure is logged and the last
   * one kept, except a row gone, which completes `gone`. Of reads that overlap, one pinned to an
   * older generation than the target held never replaces it. Output: whether the read failed.
   */
  readonly refreshTarget: Effect.Effect<{ readonly failed: boolean }>
  /** Sends a liveness event to an agent's actor; a refusal (agent gone, restoring) is dropped. */
  readonly send: (agentId: string, event: LivenessEvent) => Effect.Effect<void>
  /** The liveness part of an agent's snapshot, if its actor runs here. */
  readonly snapshotLiveness: (agentId: string) => AgentSnapshot["context"]["liveness"] | undefined
}

/** The context of `gatewayId`'s watcher, with its target read once. Fails with `GatewayNotFound` or `SqlError`. */
export const makeWatcherContext = (gatewayId: string) =>
  Effect.gen(function* () {
    const client = yield* GatewayClient
    const system = yield* AgentSystem
    const registry = yield* GatewayLiveness
    const config = yield* AppConfig
    const repo = yield* GatewayRepo
    // Pinned (generation read before the row): once `forget` dropped the gateway (a PATCHed url or
    // token), a call with this target fails as `retargeted` instead of re-dialling the old address.
    const load = Effect.flatMap(client.generation(gatewayId), (generation) =>
      Effect.map(Effect.provideService(loadGateway(gatewayId), GatewayRepo, repo), (loaded) => ({ target: { ...loaded.target, generation } }))
    )
    const gone = yield* Deferred.make<void>()
    const context: WatcherContext = {
      gatewayId,
      labels: { gateway_id: gatewayId },
      client,
      system,
      registry,
      probeOptions: { timeoutMs: Math.min(config.gatewayCallTimeoutMs, PROBE_TIMEOUT_MS) },
      roster: new RosterCache(ROSTER_RELOAD_MS),
      target: (yield* load).target,
      offers: { health: true, reach: true },
      gone,
      refreshTarget: load.pipe(
        Effect.flatMap((loaded) =>
          Effect.sync(() => {
            // Overlapping reads may end out of order: the newer generation's row stands.
            if ((loaded.target.generation ?? 0) >= (context.target.generation ?? 0)) context.target = loaded.target
            return { failed: false }
          })
        ),
        Effect.catchTag("GatewayNotFound", () => Effect.as(Deferred.succeed(gone, undefined), { failed: false })),
        Effect.catchAll((error) =>
          Effect.as(Effect.logWarning(`liveness ${gatewayId}: reading its target failed; keeping the last one: ${error.message}`), { failed: true })
        )
      ),
      send: (agentId, event) => Effect.ignore(system.send(agentId, event)),
      snapshotLiveness: (agentId) => system.snapshot(agentId)?.context.liveness
    }
    return context
  })
