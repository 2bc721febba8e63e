import { Effect, Option } from "effect"
import { GatewayRepo, targetOf } from "../../store/GatewayRepo.ts"
import { AgentGatewayMissing } from "../AgentGatewayMissing.ts"

/**
 * The gateway record and its client target; a device token the gateway issues on connect
 * (after pairing) is stored, encrypted. Fails with `AgentGatewayMissing` or `SqlError`.
 */
export const loadGateway = Effect.fn("Agents.loadGateway")(function* (gatewayId: string) {
  const repo = yield* GatewayRepo
  const gateway = yield* repo.get(gatewayId)
  if (Option.isNone(gateway)) {
    return yield* new AgentGatewayMissing({ gatewayId, message: `gateway ${gatewayId} no longer exists` })
  }
  return { gateway: gateway.value, target: targetOf(gateway.value, { onDeviceToken: (token) => repo.setDeviceToken(gatewayId, token) }) }
})
