import { z } from "zod"
import type { AgentContext, AgentRole } from "../../../machines/agent/agentTypes.ts"
import type { Shape } from "../../http/Endpoint.ts"
import type { ActivityRow } from "../../store/ActivityRepo.ts"
import type { AgentRow } from "../../store/AgentRepo.ts"
import type { WorkspaceCheck } from "../../store/WorkspaceHashes.ts"
import { AgentLivenessView, livenessView } from "../../liveness/http/LivenessView.ts"
import { Stamps, stampsOf, time } from "../../http/timestamps.ts"

const uuid = z.uuid()
const iso = (date: Date | null) => (date === null ? null : date.toISOString())

const StepError = z
  .object({
    tag: z.string().meta({ description: "The typed error's `_tag`, e.g. `GatewayRpcError`." }),
    message: z.string(),
    transient: z.boolean(),
    retryAfterMs: z.number().optional(),
    step: z.enum(["apply", "wake", "remove"]),
    at: z.number().meta({ description: "Epoch ms." })
  })
  .meta({ id: "StepError", description: "The last failure of a lifecycle step." })

const WorkspaceView = z
  .object({
    checked_at: time.meta({ description: "When the gateway's copies of the managed files were last compared with what Switchyard wrote." }),
    drifted: z.array(z.string()).meta({ description: "Managed files that differ (or are missing); a template sync rewrites them.", example: ["SOUL.md"] })
  })
  .meta({ id: "WorkspaceDrift", description: "Workspace drift (docs/operations.md §8): null until first checked." })

export const AgentView = z
  .object({
    id: uuid,
    name: z.string(),
    board_id: uuid.nullable(),
    gateway_id: uuid,
    role: z.enum(["main", "lead", "worker"]),
    is_board_lead: z.boolean(),
    is_gateway_main: z.boolean(),
    gateway_agent_id: z.string().meta({ example: "mc-3f0c9a2e-8b1d-4c55-9e1a-0d2b7c4e6f10" }),
    session_key: z.string(),
    status: z.string().meta({ description: "Top-level state: provisioning, online, updating, offline, deleting or deleted." }),
    state: z.string().meta({ description: "Full state path of the agent machine.", example: "provisioning.awaiting" }),
    last_seen_at: time.nullable(),
    last_error: StepError.nullable(),
    offline_reason: z.string().nullable(),
    heartbeat_config: z.object({ every: z.string(), target: z.string() }).loose(),
    identity_profile: z.record(z.string(), z.union([z.string(), z.array(z.string()), z.null()])).nullable(),
    identity_template: z.string().nullable(),
    soul_template: z.string().nullable(),
    liveness: AgentLivenessView,
    workspace: WorkspaceView.nullable().optional().meta({ description: "Workspace drift; in `GET /api/v1/agents` and `GET /api/v1/agents/{id}` only." }),
    version: z.int().meta({ description: "Snapshot version; grows with every transition." }),
    lifecycle: z
      .object({
        generation: z.int(),
        attempts: z.int(),
        wake_attempts: z.int(),
        deadline_at: time.nullable().meta({ description: "Next retry, check-in or offline deadline." }),
        reported_status: z.string().nullable(),
        token_source: z.enum(["minted", "recovered", "mismatch", "missing"]).nullable()
      })
      .optional()
      .meta({ description: "Why the agent is where it is (with the snapshot)." }),
    ...Stamps
  })
  .meta({ id: "Agent", description: "An agent from its persisted read model." })

/**
 * An agent from its persisted read model; with the snapshot, also the lifecycle details an
 * operator needs to see why it is where it is (attempts, next deadline, last error).
 */
export const agentView = (row: Omit<AgentRow, "machineVersion"> & { snapshot?: unknown }): Shape<typeof AgentView> => {
  const context = (row.snapshot as { context?: AgentContext } | undefined)?.context
  return {
    id: row.id,
    name: row.name,
    board_id: row.boardId,
    gateway_id: row.gatewayId,
    // The column is checked to one of the three roles.
    role: row.role as AgentRole,
    is_board_lead: row.role === "lead",
    is_gateway_main: row.role === "main",
    gateway_agent_id: row.gatewayAgentId,
    session_key: row.sessionKey,
    status: row.status,
    state: row.statePath,
    last_seen_at: iso(row.lastSeenAt),
    last_error: row.lastError,
    offline_reason: row.offlineReason,
    heartbeat_config: { ...row.heartbeatConfig },
    identity_profile: row.identityProfile,
    identity_template: row.identityTemplate,
    soul_template: row.soulTemplate,
    liveness: livenessView(row.liveness),
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
    ...stampsOf(row)
  }
}

/** `agentView` with the agent's last workspace-drift check (null: never checked; docs/operations.md §8). */
export const agentViewWithWorkspace = (row: AgentRow & { snapshot?: unknown }, check: WorkspaceCheck | null): Shape<typeof AgentView> => ({
  ...agentView(row),
  workspace: check === null ? null : { checked_at: check.checkedAt.toISOString(), drifted: [...check.drifted] }
})

export const ActivityView = z
  .object({
    id: z.int(),
    event_type: z.string().meta({ example: "agent.status.online" }),
    message: z.string(),
    agent_id: uuid.nullable(),
    board_id: uuid.nullable(),
    gateway_id: uuid.nullable(),
    created_at: time
  })
  .meta({ id: "Activity" })

export const activityView = (row: ActivityRow): Shape<typeof ActivityView> => ({
  id: Number(row.id),
  event_type: row.eventType,
  message: row.message,
  agent_id: row.agentId,
  board_id: row.boardId,
  gateway_id: row.gatewayId,
  created_at: row.createdAt.toISOString()
})
