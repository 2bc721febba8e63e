import { Effect } from "effect"
import type { WakeInput } from "../../../machines/agent/agentTypes.ts"
import { gatewayCall } from "./gatewayCall.ts"
import { loadPinnedGateway } from "./loadGateway.ts"

/** The wake message (docs/architecture.md §5.4), pointing the agent at its workspace files. */
export const wakeMessage = (name: string, action: WakeInput["action"]) =>
  `Hello ${name}. Your workspace has been ${action === "update" ? "updated" : "provisioned"}. ` +
  "If BOOTSTRAP.md exists, read it first, then read AGENTS.md. " +
  "Check in with the heartbeat call in AGENTS.md now, then begin heartbeats."

/**
 * Wakes the agent with `chat.send { deliver: true }` on its main session (docs/gateway-protocol.md §5).
 * The idempotency key is fixed per generation and wake attempt, so a retried or re-run wake
 * is answered `in_flight` instead of sending a second message; if that first run has already
 * failed (no model credentials, say), the replay answers with the failed run, which still
 * means the message was delivered. The target is pinned: a retry after a PATCH of the gateway's url
 * or token fails as `retargeted` instead of re-dialling the old address, and the step is redone on
 * the new one (docs/architecture.md §9.1 "Update"). Errors: GatewayError, GatewayNotFound, SqlError.
 */
export const wakeAgent = Effect.fn("Agents.wake")(function* (input: WakeInput) {
  const { target } = yield* loadPinnedGateway(input.gatewayId)
  yield* gatewayCall(target, "chat.send", {
    sessionKey: input.sessionKey,
    message: wakeMessage(input.name, input.action),
    deliver: true,
    idempotencyKey: `wake-${input.agentId}-${input.generation}-${input.attempt}`
  }).pipe(
    Effect.catchIf(
      (error) => error._tag === "GatewayRpcError" && error.kind === "chat_run_failed",
      (error) => Effect.logWarning(`wake of ${input.gatewayAgentId} was delivered, but its run failed: ${error.message.slice(0, 200)}`)
    )
  )
  return null
})
