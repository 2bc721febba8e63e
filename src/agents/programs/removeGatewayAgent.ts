import { Effect } from "effect"
import type { GatewayTarget } from "../../gateway/GatewayClient.ts"
import { isRetargeted, type GatewayError } from "../../gateway/GatewayError.ts"
import { gatewayCall } from "./gatewayCall.ts"

/**
 * Removes one gateway agent: `agents.delete { deleteFiles: true }` (files go to the gateway's
 * trash; "not found" counts as done, so a re-run is harmless), then a best-effort
 * `sessions.delete`, whose failure is ignored because the gateway refuses to delete a main
 * session and `agents.delete` already trashed the sessions dir (docs/gateway-protocol.md §5),
 * unless the gateway was retargeted under it: that failure is kept, so the step is redone against
 * the new target and the removal is never left half-done (docs/architecture.md §9.1 "Update").
 * Errors: GatewayError.
 */
export const removeGatewayAgent = (target: GatewayTarget, gatewayAgentId: string, sessionKey: string) =>
  gatewayCall(target, "agents.delete", { agentId: gatewayAgentId, deleteFiles: true }).pipe(
    Effect.catchIf(
      (error) => error._tag === "GatewayRpcError" && error.kind === "agent_not_found",
      () => Effect.void
    ),
    Effect.zipRight(gatewayCall(target, "sessions.delete", { key: sessionKey }).pipe(bestEffort))
  )

/** Ignores a best-effort gateway call's failure, except `retargeted` (the step is redone on the new target). */
export const bestEffort = <A, R>(call: Effect.Effect<A, GatewayError, R>): Effect.Effect<void, GatewayError, R> =>
  call.pipe(
    Effect.asVoid,
    Effect.catchIf(
      (error) => !isRetargeted(error),
      () => Effect.void
    )
  )
