import type { AgentContext } from "../../machines/agent/agentTypes.ts"
import type { ActivityEntry } from "../store/ActivityRepo.ts"
import type { NewTransition } from "../store/TransitionRepo.ts"
import type { AgentProjection } from "./agentProjection.ts"

/**
 * The activity rows a transition deserves: the creation, a change of status, or a step that failed. A
 * heartbeat that changes nothing but `last_seen_at` writes none (docs/operations.md §6.3:
 * a row per heartbeat would grow without bound).
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
  // The gateway runs another heartbeat than the one we set (docs/operations.md §8), or lacks the agent.
  const mismatch = after.liveness?.heartbeatMismatch ?? null
  if (mismatch !== null && mismatch !== (before.liveness?.heartbeatMismatch ?? null)) {
    entries.push({ ...ids, eventType: "agent.heartbeat.mismatch", message: `${after.name}: ${mismatch}` })
  }
  if ((after.liveness?.missingSince ?? null) !== null && (before.liveness?.missingSince ?? null) === null) {
    entries.push({ ...ids, eventType: "agent.gateway.missing", message: `${after.name}: ${context.gatewayAgentId} is missing from the gateway's agents.list` })
  }
  if (after.status !== before.status) {
    const reason = after.status === "offline" && after.offlineReason !== null ? `: ${after.offlineReason}` : ""
    entries.push({ ...ids, eventType: `agent.${after.status}`, message: `${after.name}: ${before.status} → ${after.status}${reason}` })
  }
  return entries
}

/**
 * The transition row for a snapshot that changed (docs/architecture.md §6.2): from the previous state path
 * (null for a new agent's first state) to the new one, the type of the event that caused it,
 * the `tag` of the step error a `*.failed` event carried, and when: the event's `at` (when it
 * was accepted, the machine's own clock) or, for `xstate.init`, `now`.
 */
export const lifecycleTransition = (
  context: AgentContext,
  before: AgentProjection | undefined,
  after: AgentProjection,
  event: { readonly type: string; readonly [key: string]: unknown },
  now: number
): Omit<NewTransition, "version"> => {
  const error = event["error"] as { tag?: unknown } | undefined
  return {
    gatewayId: context.gatewayId,
    boardId: context.boardId,
    fromState: before?.statePath ?? null,
    toState: after.statePath,
    eventType: event.type,
    errorTag: typeof error?.tag === "string" ? error.tag : null,
    at: new Date(typeof event["at"] === "number" ? event["at"] : now)
  }
}
