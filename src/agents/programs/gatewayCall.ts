import { Effect } from "effect"
import { GatewayClient, withIdempotencyKey, type CallOptions, type GatewayTarget } from "../../gateway/GatewayClient.ts"
import { isTransient, type GatewayError } from "../../gateway/GatewayError.ts"
import type { Method } from "../../gateway/protocol.ts"
import { gatewayTransient, retryOnFailure } from "../../gateway/retryPolicies.ts"

/**
 * One gateway call retried on transient errors with the `gatewayTransient` schedule (restart
 * 1012, policy change 4001, `UNAVAILABLE`); terminal errors fail at once. A timeout is not
 * retried here: a gateway that does not answer must show in the agent's state (`retrying` with
 * its last error) after one call timeout, not after a hidden round of retries; the machine
 * retries the step. A side-effecting call keeps one idempotency key across its retries.
 */
export const gatewayCall = <M extends Method>(target: GatewayTarget, method: M, params: Record<string, unknown>, options?: CallOptions) => {
  const body = withIdempotencyKey(method, params)
  return Effect.flatMap(GatewayClient, (client) => client.call(target, method, body, options)).pipe(
    retryOnFailure({ schedule: gatewayTransient, while: (error: GatewayError) => isTransient(error) && error._tag !== "GatewayTimeoutError" })
  )
}
