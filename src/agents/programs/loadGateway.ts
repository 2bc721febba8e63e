import { Effect, Option } from "effect"
import { GatewayClient } from "../../gateway/GatewayClient.ts"
import { GatewayRepo, targetOf } from "../../store/GatewayRepo.ts"
import { GatewayNotFound } from "../GatewayRowErrors.ts"

/**
 * The gateway record and its client target; a device token the gateway issues on connect
 * (after pairing) is stored, encrypted. Fails with `GatewayNotFound` or `SqlError`.
 */
export const loadGateway = Effect.fn("Agents.loadGateway")(function* (gatewayId: string) {
  const repo = yield* GatewayRepo
  const gateway = yield* repo.get(gatewayId)
  if (Option.isNone(gateway)) return yield* new GatewayNotFound({ gatewayId })
  return { gateway: gateway.value, target: targetOf(gateway.value, { onDeviceToken: (token) => repo.setDeviceToken(gatewayId, token) }) }
})

/**
 * `loadGateway` with its target pinned (`GatewayTarget.generation`, read before the row, which is
 * read with `GatewayRepo.getShared`): a
 * multi-call program (an apply) that loaded the gateway before its url or token changed fails
 * with `GatewayConnectionError` `retargeted` at its next call instead of finishing against the old
 * address, and its step is retried against the new one (docs/architecture.md §9.1 "Update").
 * Fails with `GatewayNotFound` or `SqlError`.
 */
export const loadPinnedGateway = Effect.fn("Agents.loadPinnedGateway")(function* (gatewayId: string) {
  const generation = yield* Effect.flatMap(GatewayClient, (client) => client.generation(gatewayId))
  // Shared with the other programs that load it meanwhile (a burst, a template sync): one read, sent after this one asked.
  const repo = yield* GatewayRepo
  const gateway = yield* repo.getShared(gatewayId)
  if (Option.isNone(gateway)) return yield* new GatewayNotFound({ gatewayId })
  const target = targetOf(gateway.value, { onDeviceToken: (token) => repo.setDeviceToken(gatewayId, token) })
  return { gateway: gateway.value, target: { ...target, generation } }
})
