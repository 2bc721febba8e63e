import type { AgentContext } from "../../machines/agent/agentTypes.ts"
import type { ActivityRow } from "../store/ActivityRepo.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import type { BoardRow } from "../store/BoardRepo.ts"
import type { TaskRow } from "../store/TaskRepo.ts"

const iso = (date: Date | null) => (date === null ? null : date.toISOString())

export const boardView = (row: BoardRow) => ({
  id: row.id,
  name: row.name,
  gateway_id: row.gatewayId,
  board_type: row.boardType,
  objective: row.objective,
  success_metrics: row.successMetrics,
  target_date: row.targetDate,
  goal_confirmed: row.goalConfirmed,
  max_agents: row.maxAgents,
  paused: row.paused,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt)
})

/**
 * An agent from its persisted read model; with the snapshot, also the lifecycle details an
 * operator needs to see why it is where it is (attempts, next deadline, last error).
 */
export const agentView = (row: AgentRow & { snapshot?: unknown }) => {
  const context = (row.snapshot as { context?: AgentContext } | undefined)?.context
  return {
    id: row.id,
    name: row.name,
    board_id: row.boardId,
    gateway_id: row.gatewayId,
    role: row.role,
    is_board_lead: row.role === "lead",
    is_gateway_main: row.role === "main",
    gateway_agent_id: row.gatewayAgentId,
    session_key: row.sessionKey,
    status: row.status,
    state: row.statePath,
    last_seen_at: iso(row.lastSeenAt),
    last_error: row.lastError,
    offline_reason: row.offlineReason,
    heartbeat_config: row.heartbeatConfig,
    identity_profile: row.identityProfile,
    identity_template: row.identityTemplate,
    soul_template: row.soulTemplate,
    version: Number(row.version),
    ...(context === undefined
      ? {}
      : {
          lifecycle: {
            generation: context.generation,
            attempts: context.attempts,
            wake_attempts: context.wakeAttempts,
            deadline_at: context.deadline === null ? null : new Date(context.deadline).toISOString(),
            reported_status: context.reportedStatus,
            token_source: context.tokenSource
          }
        }),
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt)
  }
}

export const taskView = (row: TaskRow) => ({
  id: row.id,
  board_id: row.boardId,
  title: row.title,
  status: row.status,
  assigned_agent_id: row.assignedAgentId,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt)
})

export const activityView = (row: ActivityRow) => ({
  id: Number(row.id),
  event_type: row.eventType,
  message: row.message,
  agent_id: row.agentId,
  board_id: row.boardId,
  gateway_id: row.gatewayId,
  created_at: iso(row.createdAt)
})
