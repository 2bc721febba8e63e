import { Effect } from "effect"
import type { ApplyOutput } from "../../../machines/agent/agentTypes.ts"
import type { GatewayTarget } from "../../gateway/GatewayClient.ts"
import type { GatewayError } from "../../gateway/GatewayError.ts"
import { AgentConfigBatcher, type Heartbeats } from "../AgentConfigBatcher.ts"

/**
 * The heartbeat the gateway runs for `gatewayAgentId`, read back from a live `health` after the
 * agent's config entry was set (docs/operations.md §8: a gateway may run something other than
 * what we set). The read is shared with the other agents of the gateway asking at the same time
 * (`AgentConfigBatcher.effectiveHeartbeats`). Never fails: null when `health` cannot be read or
 * does not list the agent.
 */
export const readEffectiveHeartbeat = Effect.fn("Agents.readEffectiveHeartbeat")(function* (
  target: GatewayTarget,
  gatewayAgentId: string,
  /** The read to take, when the caller has one (`AgentConfigBatcher.setThenReadBack`); else a shared read sent now. */
  read?: Effect.Effect<Heartbeats, GatewayError>
) {
  const batcher = yield* AgentConfigBatcher
  const heartbeat = yield* (read ?? batcher.effectiveHeartbeats(target)).pipe(
    Effect.map((heartbeats) => heartbeats.get(gatewayAgentId) ?? null),
    Effect.catchAll((error) => Effect.as(Effect.logWarning(`reading back the heartbeat of ${gatewayAgentId} failed: ${error._tag}`), null))
  )
  if (heartbeat === null) return null
  return { enabled: heartbeat.enabled, every: heartbeat.every, everyMs: heartbeat.everyMs } satisfies NonNullable<ApplyOutput["effectiveHeartbeat"]>
})
