import { Effect } from "effect"
import type { ApplyOutput } from "../../../machines/agent/agentTypes.ts"
import type { GatewayTarget } from "../../gateway/GatewayClient.ts"
import { gatewayCall } from "./gatewayCall.ts"

/** A read-back is a check, not the apply: it gets a short call of its own. */
const READ_BACK_TIMEOUT_MS = 5_000

/**
 * The heartbeat the gateway runs for `gatewayAgentId`, read back from `health` after a
 * `config.patch` (docs/operations.md §8: a gateway may run something other than what we set).
 * Never fails: null when `health` cannot be read or does not list the agent.
 */
export const readEffectiveHeartbeat = Effect.fn("Agents.readEffectiveHeartbeat")(function* (target: GatewayTarget, gatewayAgentId: string) {
  // `probe: true`: a live read; a plain `health` answers the gateway's cached sample, up to a minute old (docs/gateway-protocol.md §10).
  const health = yield* gatewayCall(target, "health", { probe: true }, { timeoutMs: READ_BACK_TIMEOUT_MS }).pipe(
    Effect.map((result) => result.agents?.find((agent) => agent.agentId === gatewayAgentId)?.heartbeat ?? null),
    Effect.catchAll((error) => Effect.as(Effect.logWarning(`reading back the heartbeat of ${gatewayAgentId} failed: ${error._tag}`), null))
  )
  if (health === null) return null
  return { enabled: health.enabled, every: health.every, everyMs: health.everyMs } satisfies NonNullable<ApplyOutput["effectiveHeartbeat"]>
})
