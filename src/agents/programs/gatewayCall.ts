import { Effect } from "effect"
import { GatewayClient, type CallOptions, type GatewayTarget } from "../../gateway/GatewayClient.ts"
import { isTransient } from "../../gateway/GatewayError.ts"
import type { Method } from "../../gateway/protocol.ts"
import { gatewayTransient } from "../../gateway/retryPolicies.ts"

/**
 * One gateway call retried on transient errors with the `gatewayTransient` schedule (restart
 * 1012, policy change 4001, `UNAVAILABLE`, timeouts); terminal errors fail at once.
 */
export const gatewayCall = <M extends Method>(target: GatewayTarget, method: M, params: Record<string, unknown>, options?: CallOptions) =>
  Effect.flatMap(GatewayClient, (client) => client.call(target, method, params, options)).pipe(
    Effect.retry({ schedule: gatewayTransient, while: isTransient })
  )
