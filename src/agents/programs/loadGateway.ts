import { Effect, Option } from "effect"
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
