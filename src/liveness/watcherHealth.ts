import { Clock, Effect } from "effect"
import type { z } from "zod"
import type { HealthResult } from "../gateway/protocol.ts"
import { HealthSampleMemo } from "./HealthSampleMemo.ts"
import type { WatcherContext } from "./watcherContext.ts"

/** A `health` sample identical to the last one applied is still applied agent by agent every this many samples (one per reconciliation). */
const HEALTH_FULL_EVERY = 2

/**
 * The watcher's effective heartbeats (docs/operations.md §8): `apply` sends each agent whose
 * snapshot says otherwise what a decoded `health` sample says of its heartbeat (a sample equal
 * to the last one applied, through the same roster, is skipped: `HealthSampleMemo`); `read`
 * takes a live `health {probe: true}` sample (fleet-sized) where the gateway offers it. Neither
 * fails: a failed read is logged, and the next one tries again.
 */
export const makeWatcherHealth = (context: WatcherContext) => {
  const { gatewayId, roster } = context
  const samples = new HealthSampleMemo(HEALTH_FULL_EVERY)

  const apply = (health: z.infer<typeof HealthResult>) =>
    Effect.gen(function* () {
      // A pushed `health` is the gateway's cached sample: older than what the agent knows, it says nothing.
      const agents = health.agents ?? []
      if (samples.unchanged(agents, roster.roster)) return
      const at = health.ts ?? (yield* Clock.currentTimeMillis)
      for (const entry of agents) {
        const agentId = roster.agentIdOf(entry.agentId)
        const heartbeat = entry.heartbeat
        if (agentId === undefined || heartbeat === undefined) continue
        const known = context.snapshotLiveness(agentId)?.heartbeat
        if (known !== undefined && known !== null && known.at > at) continue
        if (known?.enabled === heartbeat.enabled && known.every === heartbeat.every && known.everyMs === heartbeat.everyMs) continue
        yield* context.send(agentId, { type: "gateway.heartbeat.effective", at, source: "health", enabled: heartbeat.enabled, every: heartbeat.every, everyMs: heartbeat.everyMs })
      }
    })

  /** A live sample (~40 ms on 2026.9.6, fleet-sized), applied. */
  const read = Effect.suspend(() =>
    context.offers.health
      ? context.client.call(context.target, "health", { probe: true }, context.probeOptions).pipe(
          // A sample not applied to every agent must not count as applied: the next identical one is.
          Effect.flatMap((health) => Effect.tapError(apply(health), () => Effect.sync(() => samples.forget()))),
          Effect.catchAll((error) => Effect.logWarning(`liveness: health on gateway ${gatewayId} failed: ${error.message}`))
        )
      : Effect.void
  )

  return { apply, read }
}
