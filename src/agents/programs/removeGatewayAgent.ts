import { Effect } from "effect"
import type { GatewayTarget } from "../../gateway/GatewayClient.ts"
import { gatewayCall } from "./gatewayCall.ts"

/**
 * Removes one gateway agent: `agents.delete { deleteFiles: true }` (files go to the gateway's
 * trash; "not found" counts as done, so a re-run is harmless), then a best-effort
 * `sessions.delete`, whose failure is ignored because the gateway refuses to delete a main
 * session and `agents.delete` already trashed the sessions dir (docs/gateway-protocol.md §5).
 * Errors: GatewayError.
 */
export const removeGatewayAgent = (target: GatewayTarget, gatewayAgentId: string, sessionKey: string) =>
  gatewayCall(target, "agents.delete", { agentId: gatewayAgentId, deleteFiles: true }).pipe(
    Effect.catchIf(
      (error) => error._tag === "GatewayRpcError" && error.kind === "agent_not_found",
      () => Effect.void
    ),
    Effect.zipRight(gatewayCall(target, "sessions.delete", { key: sessionKey }).pipe(Effect.ignore))
  )
