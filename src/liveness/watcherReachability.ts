import { Clock, Effect } from "effect"
import type { LivenessEvent } from "../../machines/agent/livenessTypes.ts"
import type { z } from "zod"
import { isRetargeted } from "../gateway/GatewayError.ts"
import type { HealthResult } from "../gateway/protocol.ts"
import { gatewayReachable } from "../observability/metrics.ts"
import type { WatcherContext } from "./watcherContext.ts"

/** Reachability probes timing out in a row before a gateway whose socket is open counts as unreachable. */
const SLOW_PROBES = 3
/**
 * Probes failing as `retargeted` in a row, each with the target's read failing too (the database
 * away after a `forget`), before the gateway counts as unreachable: nothing dials it, so nothing
 * can say it lives (docs/operations.md §8).
 */
const UNREADABLE_PROBES = 3
/**
 * The reachability probe: a read whose answer is one row whatever the fleet's size (a `health`
 * answer lists every agent of the gateway, ~300 B each; docs/operations.md §8).
 */
export const REACH_METHOD = "sessions.list"
const REACH_PARAMS = { limit: 1 }

/**
 * Whether the watcher's gateway is reachable (docs/operations.md §8), told to its agents on every
 * change: `markLost` and `markReached` update the registry and the gauge and send
 * `gateway.connection.lost`/`regained` to the agents whose snapshot says otherwise; `probe` is a
 * one-row read (a gateway without it is probed with `health`, whose sample `applyHealth` then
 * applies). A slow answer on a live socket is a busy gateway, not a lost one: only SLOW_PROBES
 * timeouts in a row count (a dead socket is closed by the connection's own silence watchdog).
 * A probe failing as `retargeted` is no loss, but UNREADABLE_PROBES of them in a row whose
 * target read failed too mark the gateway lost ("target unreadable"): the watcher cannot reach it.
 */
export const makeWatcherReachability = (context: WatcherContext, applyHealth: (health: z.infer<typeof HealthResult>) => Effect.Effect<void>) => {
  const { gatewayId, labels, registry, roster } = context
  let reachable: boolean | null = null
  let slowProbes = 0
  let unreadableProbes = 0

  /** Sends to every agent of the gateway whose snapshot `needs` it (a repeated signal would only cost a write). */
  const sendToAll = (needs: (agentId: string) => boolean, make: (at: number) => LivenessEvent) =>
    Effect.forEach([...roster.roster.values()].filter(needs), (agentId) => Effect.flatMap(Clock.currentTimeMillis, (at) => context.send(agentId, make(at))), {
      concurrency: 16,
      discard: true
    })

  const markLost = (reason: string) =>
    Effect.suspend(() => {
      if (reachable === false) return Effect.void
      reachable = false
      gatewayReachable.set(labels, 0)
      return Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        yield* registry.update(gatewayId, { reachable: false, since: at })
        yield* Effect.logWarning(`liveness ${gatewayId}: gateway unreachable (${reason})`)
        yield* sendToAll((id) => context.snapshotLiveness(id)?.gatewayReachable !== false, (now) => ({ type: "gateway.connection.lost", at: now, source: "socket", reason }))
      })
    })

  const markReached = Effect.suspend(() => {
    if (reachable === true) return Effect.void
    const was = reachable
    reachable = true
    gatewayReachable.set(labels, 1)
    return Effect.gen(function* () {
      yield* registry.update(gatewayId, { reachable: true, since: yield* Clock.currentTimeMillis })
      if (was === false) yield* Effect.logInfo(`liveness ${gatewayId}: gateway reachable again`)
      // Also after a start of the service: a snapshot may still say the gateway was away.
      yield* sendToAll((id) => context.snapshotLiveness(id)?.gatewayReachable === false, (at) => ({ type: "gateway.connection.regained", at, source: "socket" }))
    })
  })

  const probe = Effect.suspend(() =>
    context.offers.reach || !context.offers.health
      ? Effect.as(context.client.call(context.target, REACH_METHOD, REACH_PARAMS, context.probeOptions), undefined)
      : context.client.call(context.target, "health", { probe: true }, context.probeOptions)
  ).pipe(
    Effect.matchEffect({
      onFailure: (error) => {
        // An answer, even a refusal or one we cannot decode, comes from a reachable gateway.
        if (error._tag === "GatewayRpcError" || error._tag === "GatewayProtocolError") {
          slowProbes = 0
          unreadableProbes = 0
          return Effect.zipRight(markReached, Effect.logWarning(`liveness: probe of gateway ${gatewayId} failed: ${error.message}`))
        }
        // Retargeted under the probe (`forget`): no loss; the next probe dials the target read now.
        // While the target cannot be read, every probe fails so without dialling: after
        // UNREADABLE_PROBES in a row the gateway counts as lost, until a probe reaches it again.
        if (isRetargeted(error)) {
          return Effect.flatMap(context.refreshTarget, ({ failed }) => {
            unreadableProbes = failed ? unreadableProbes + 1 : 0
            return unreadableProbes >= UNREADABLE_PROBES
              ? markLost(`target unreadable: its row could not be read after a retarget, ${unreadableProbes} probes in a row`)
              : Effect.void
          })
        }
        unreadableProbes = 0
        if (error._tag !== "GatewayTimeoutError") return Effect.zipRight(context.refreshTarget, markLost(error.message))
        slowProbes += 1
        return slowProbes >= SLOW_PROBES ? markLost(`probe timed out ${slowProbes} times in a row`) : Effect.void
      },
      onSuccess: (health) => {
        slowProbes = 0
        unreadableProbes = 0
        return Effect.zipRight(markReached, health === undefined ? Effect.void : applyHealth(health))
      }
    })
  )

  return { markLost, markReached, probe, isReachable: () => reachable === true }
}
