import type { AgentContext } from "../../machines/agent/agentTypes.ts"
import type { ActivityEntry } from "../store/ActivityRepo.ts"
import type { AgentProjection } from "./agentProjection.ts"

/**
 * The activity rows a transition deserves: the creation, a change of status, or a step that failed. A
 * heartbeat that changes nothing but `last_seen_at` writes none (peers-and-performance §2:
 * Mission Control's row per heartbeat grows without bound).
 */
export const lifecycleActivity = (
  context: AgentContext,
  before: AgentProjection | undefined,
  after: AgentProjection
): ReadonlyArray<ActivityEntry> => {
  const ids = { agentId: context.agentId, boardId: context.boardId, gatewayId: context.gatewayId }
  // No earlier projection: the agent was just created.
  if (before === undefined) return [{ ...ids, eventType: "agent.created", message: `${after.name}: created as ${context.role} ${context.gatewayAgentId}` }]
  const entries: ActivityEntry[] = []
  if (after.statePath !== before.statePath && after.statePath.endsWith(".failed")) {
    entries.push({ ...ids, eventType: `agent.${after.status}.failed`, message: `${after.name}: ${after.lastError?.message ?? "failed"}` })
  } else if (after.lastError !== null && after.lastError !== before.lastError && after.statePath.endsWith(".retrying")) {
    entries.push({ ...ids, eventType: `agent.${after.status}.retrying`, message: `${after.name}: ${after.lastError.message}` })
  }
  if (after.status !== before.status) {
    const reason = after.status === "offline" && after.offlineReason !== null ? `: ${after.offlineReason}` : ""
    entries.push({ ...ids, eventType: `agent.${after.status}`, message: `${after.name}: ${before.status} → ${after.status}${reason}` })
  }
  return entries
}
