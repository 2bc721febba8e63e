import { Effect } from "effect"
import type { RemoveInput } from "../../../machines/agent/agentTypes.ts"
import { gatewayCall } from "./gatewayCall.ts"
import { loadGateway } from "./loadGateway.ts"

/**
 * Deletes the agent on the gateway with `agents.delete { deleteFiles: true }` (files go to the
 * gateway's trash), treating "not found" as done so a re-run is harmless; then a best-effort
 * `sessions.delete`. The gateway refuses to delete a main session and `agents.delete` already
 * trashes the sessions dir (gateway protocol §5), so that second call's failure is ignored.
 * Errors: GatewayError, AgentGatewayMissing, SqlError.
 */
export const removeAgent = Effect.fn("Agents.remove")(function* (input: RemoveInput) {
  const { target } = yield* loadGateway(input.gatewayId)
  yield* gatewayCall(target, "agents.delete", { agentId: input.gatewayAgentId, deleteFiles: true }).pipe(
    Effect.catchIf(
      (error) => error._tag === "GatewayRpcError" && error.kind === "agent_not_found",
      () => Effect.void
    )
  )
  yield* gatewayCall(target, "sessions.delete", { key: input.sessionKey }).pipe(Effect.ignore)
  return null
})
