import { Effect } from "effect"
import type { GatewayTarget } from "../../gateway/GatewayClient.ts"
import type { GatewayRpcError } from "../../gateway/GatewayError.ts"
import { agentReadiness, retryOnFailure } from "../../gateway/retryPolicies.ts"
import { gatewayCall } from "./gatewayCall.ts"

const isNotFound = (error: { _tag: string }) => error._tag === "GatewayRpcError" && (error as GatewayRpcError).kind === "agent_not_found"

/**
 * Creates the agent on the gateway unless it exists, and returns its workspace file list once
 * the gateway can serve it. `agents.create` derives the id from `name`, so it is created under
 * the gateway agent id; the display name is set with the agent's config entry
 * (AgentConfigBatcher), which saves the config write `agents.update` would cost. It acks
 * before the agent is usable (docs/gateway-protocol.md §0.6), so `agents.files.list` is retried on "not found".
 * It always tries `agents.create` ("already exists" means done): `agents.list` lags behind
 * a delete, so asking it first would skip re-creating an id deleted moments ago.
 * Idempotent: a restore that re-runs it finds the agent and updates it. An adopted agent's first
 * provision (`create: false`) only waits for the agent it takes over (docs/operations.md §6.2).
 * An agent an earlier apply created (`likelyExists`: an update, a template sync) is asked for its
 * files beside `agents.create`, not after it: one round trip instead of two. That list is asked
 * once: a failed create fails at once, and were the agent gone after all, the list is asked
 * again (with the readiness retries) once the create has made it.
 * Output: the file list, the workspace the gateway reports for the agent, if it says, and
 * whether this call created the agent (`created`; false when it existed, or with `create: false`).
 */
export const ensureGatewayAgent = Effect.fn("Agents.ensureGatewayAgent")(function* (
  target: GatewayTarget,
  agent: { gatewayAgentId: string; workspace: string; create?: boolean; likelyExists?: boolean }
) {
  // Whether this call made the agent (false: it existed already).
  const create = gatewayCall(target, "agents.create", { name: agent.gatewayAgentId, workspace: agent.workspace }).pipe(
    Effect.as(true),
    Effect.catchIf(
      (error) => error._tag === "GatewayRpcError" && error.kind === "agent_exists",
      () => Effect.succeed(false)
    )
  )
  const ready = gatewayCall(target, "agents.files.list", { agentId: agent.gatewayAgentId }).pipe(
    retryOnFailure({ schedule: agentReadiness, while: isNotFound })
  )
  // Once a create is sent it runs until the agent is usable, even if the state is left: a
  // delete that follows then finds the agent instead of racing it ("not found" → orphan).
  // Uninterruptible is not unbounded: every call ends within its timeout (GatewayClient), and
  // readiness retries for at most `agentReadiness`, so a gateway that never answers shows as a
  // GatewayTimeoutError in the agent's state instead of freezing it.
  // Beside the create, the list is asked once, without retry: a failed create fails the step at
  // once, and a list that could not answer (the agent gone after all) is asked again, with the
  // readiness retries, once the create has made it.
  const createThenList = agent.likelyExists === true
    ? Effect.zipWith(create, Effect.either(gatewayCall(target, "agents.files.list", { agentId: agent.gatewayAgentId })), (created, early) => [created, early] as const, { concurrent: true }).pipe(
        Effect.flatMap(([created, early]) => Effect.map(early._tag === "Right" ? Effect.succeed(early.right) : ready, (listed) => [created, listed] as const))
      )
    : Effect.zip(create, ready)
  const [created, listed] = yield* Effect.uninterruptible(agent.create === false ? Effect.map(ready, (listed) => [false, listed] as const) : createThenList)
  return { files: listed.files, reportedWorkspace: typeof listed.workspace === "string" ? listed.workspace : undefined, created }
})
