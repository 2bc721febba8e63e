import type { SyncAgentRow, SyncJobRow } from "../store/SyncJobRepo.ts"
import { SKIP_REASONS } from "./planSync.ts"

/** Counts over a job's agents: `done` = updated + skipped + failed. */
export interface SyncProgress {
  readonly total: number
  readonly done: number
  readonly updated: number
  readonly skipped: number
  readonly failed: number
}

/** One agent's line in a job result (API shape). */
export interface SyncAgentView {
  readonly agent_id: string
  readonly agent_name: string
  readonly board_id: string | null
  readonly status: SyncAgentRow["status"]
  readonly message: string | null
  readonly token_source: string | null
  readonly attempts: number
}

/** One entry of `errors[]` (docs/operations.md §6.8). */
export interface SyncErrorView {
  readonly agent_id: string | null
  readonly agent_name: string | null
  readonly board_id: string | null
  readonly message: string
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString())

/** A stored agent result in the API's shape. */
export const agentView = (row: SyncAgentRow): SyncAgentView => ({
  agent_id: row.agentId,
  agent_name: row.agentName,
  board_id: row.boardId,
  status: row.status,
  message: row.message,
  token_source: row.tokenSource,
  attempts: row.attempts
})

/** Progress of a job from its stored agents. */
export const progressOf = (rows: ReadonlyArray<Pick<SyncAgentRow, "status">>): SyncProgress => {
  const count = (status: SyncAgentRow["status"]) => rows.filter((row) => row.status === status).length
  const [updated, skipped, failed] = [count("updated"), count("skipped"), count("error")]
  return { total: rows.length, done: updated + skipped + failed, updated, skipped, failed }
}

/**
 * Whether a row belongs in `errors`: every error, a token warning on an updated agent, and a
 * skip that points at a problem (a paused board or a deleted agent is the operator's doing).
 */
const isReported = (row: SyncAgentRow) =>
  row.message !== null && (row.status === "error" || row.status === "updated" || (row.status === "skipped" && row.message === SKIP_REASONS.boardNotFound))

/**
 * A job as the API answers it: Mission Control's `GatewayTemplatesSyncResult` (docs/operations.md
 * §6.8; `agents_updated`/`agents_skipped` count board agents, a failed one as skipped,
 * `main_updated` the gateway-main agent) plus the job's id, status, options, progress, every
 * agent's result and its times (ISO 8601).
 */
export const syncJobReport = (job: SyncJobRow, rows: ReadonlyArray<SyncAgentRow>) => {
  const board = rows.filter((row) => row.role !== "main")
  const main = rows.find((row) => row.role === "main")
  const errors: Array<SyncErrorView> = rows
    .filter(isReported)
    .map((row) => ({ agent_id: row.agentId, agent_name: row.agentName, board_id: row.boardId, message: row.message! }))
  if (job.message !== null) errors.push({ agent_id: null, agent_name: null, board_id: null, message: job.message })
  return {
    job_id: job.id,
    gateway_id: job.gatewayId,
    status: job.status,
    include_main: job.options.includeMain,
    reset_sessions: job.options.resetSessions,
    lead_only: job.options.leadOnly,
    rotate_tokens: job.options.rotateTokens,
    force_bootstrap: job.options.forceBootstrap,
    overwrite: job.options.overwrite,
    board_id: job.options.boardId,
    agents_updated: board.filter((row) => row.status === "updated").length,
    agents_skipped: board.filter((row) => row.status === "skipped" || row.status === "error").length,
    main_updated: main?.status === "updated",
    errors,
    progress: progressOf(rows),
    agents: rows.map(agentView),
    created_at: job.createdAt.toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt)
  }
}

export type SyncJobReport = ReturnType<typeof syncJobReport>

/**
 * A job in a list (`GET /api/v1/templates/sync/jobs`): its status and progress from the job's
 * own counters (no per-agent rows read), its gateway, board and times (ISO 8601).
 */
export const syncJobSummary = (job: SyncJobRow) => ({
  job_id: job.id,
  gateway_id: job.gatewayId,
  board_id: job.options.boardId,
  status: job.status,
  message: job.message,
  progress: {
    total: job.totalCount,
    done: job.updatedCount + job.skippedCount + job.failedCount,
    updated: job.updatedCount,
    skipped: job.skippedCount,
    failed: job.failedCount
  },
  created_at: job.createdAt.toISOString(),
  started_at: iso(job.startedAt),
  finished_at: iso(job.finishedAt)
})

export type SyncJobSummary = ReturnType<typeof syncJobSummary>
