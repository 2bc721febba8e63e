import { Effect, Option } from "effect"
import type { RemoveInput } from "../../../machines/agent/agentTypes.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { TaskRepo } from "../../store/TaskRepo.ts"
import { workspacePathFor } from "../naming.ts"
import { gatewayCall } from "./gatewayCall.ts"
import { loadPinnedGateway } from "./loadGateway.ts"
import { bestEffort, removeGatewayAgent } from "./removeGatewayAgent.ts"

/** The cleanup request to the gateway-main agent (docs/operations.md §6.14). */
export const cleanupMessage = (gatewayAgentId: string, workspace: string) =>
  `Cleanup request: agent ${gatewayAgentId} was deleted by Switchyard. ` +
  `Remove the workspace directory ${workspace} if it still exists. Reply NO_REPLY.`

/**
 * Deletes the agent on the gateway (`removeGatewayAgent`). Then (docs/operations.md §6.14,
 * docs/architecture.md §5.7): its in-progress tasks go back to the inbox unassigned, the rest are
 * unassigned, and the gateway-main agent, if there is one, is asked to remove the workspace (best
 * effort, one message per agent thanks to its idempotency key).
 * The target is pinned: a PATCH of the gateway's url or token mid-remove fails the step as
 * `retargeted` (transient), and the whole remove, idempotent, is redone against the new target
 * (docs/architecture.md §9.1 "Update"). Errors: GatewayError, GatewayNotFound, SqlError.
 */
export const removeAgent = Effect.fn("Agents.remove")(function* (input: RemoveInput) {
  const { gateway, target } = yield* loadPinnedGateway(input.gatewayId)
  yield* removeGatewayAgent(target, input.gatewayAgentId, input.sessionKey)
  yield* Effect.flatMap(TaskRepo, (tasks) => tasks.releaseAgent(input.agentId))
  const main = yield* Effect.flatMap(AgentRepo, (agents) => agents.mainOf(input.gatewayId))
  if (Option.isSome(main) && main.value.id !== input.agentId) {
    yield* gatewayCall(target, "chat.send", {
      sessionKey: main.value.sessionKey,
      message: cleanupMessage(input.gatewayAgentId, workspacePathFor(gateway.workspaceRoot, input.gatewayAgentId)),
      deliver: false,
      idempotencyKey: `cleanup-${input.agentId}`
    }).pipe(bestEffort)
  }
  return null
})
