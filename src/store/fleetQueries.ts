import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Effect } from "effect"

/**
 * What needs an operator, most urgent first (docs/operations.md §3.6): a failed step, a step
 * being retried, busy too long, offline because the gateway lacks the agent (`gateway_missing`)
 * or runs another heartbeat (`heartbeat_mismatch`), offline for any reason, and managed
 * workspace files that differ from what we wrote (`drifted`, docs/operations.md §8). The two
 * causes are offline too: `offline` counts them as well.
 */
export const AGENT_PROBLEMS = ["failed", "retrying", "stuck", "gateway_missing", "heartbeat_mismatch", "offline", "drifted"] as const
export type AgentProblem = (typeof AGENT_PROBLEMS)[number]

/** The filters of a list of live agents; each narrows the one before (AND). */
export interface AgentFilter {
  readonly boardId?: string | undefined
  readonly gatewayId?: string | undefined
  /** Top-level state: provisioning | online | updating | offline | deleting. */
  readonly status?: string | undefined
  /** A state path or a prefix of one: `provisioning` matches `provisioning.*`. */
  readonly state?: string | undefined
  /** A case-insensitive substring of the name. */
  readonly q?: string | undefined
  readonly problem?: AgentProblem | undefined
  /** `problem=stuck`: busy for longer than this, seconds. */
  readonly stuckAfterS?: number | undefined
}

/**
 * The problem predicates, as SQL text. They are literal (no parameters) and written exactly as
 * the partial indexes of migration 0011 are, so the planner proves the match.
 */
const FAILED = "state_path like '%.failed'"
const RETRYING = "(state_path like '%.retrying' or state_path like '%.wakeRetrying')"
const BUSY = "status in ('provisioning', 'updating', 'deleting')"
/**
 * An offline agent's cause, from the `liveness` jsonb. It is not indexed (an index on it would
 * make every signal's save a non-HOT update, migration 0012): the status index narrows to the
 * offline agents first, and only their rows are read.
 */
const causeIs = (cause: "gateway_missing" | "heartbeat_mismatch") => `status = 'offline' and liveness->>'offlineCause' = '${cause}'`
/** Written exactly as the partial index of migration 0019 is, so the planner proves the match. */
const DRIFTED_CHECK = "c.drifted <> '[]'::jsonb"
const DRIFTED = `exists (select 1 from agent_workspace_checks c where c.agent_id = agents.id and ${DRIFTED_CHECK})`

/**
 * When the agent entered its current status: its newest transition from another status (or its
 * first), through the per-agent transition index; its creation if history retention pruned it.
 */
const ENTERED = `coalesce((select t.at from agent_transitions t where t.agent_id = agents.id
  and (t.from_state is null or split_part(t.from_state, '.', 1) <> agents.status) order by t.id desc limit 1), agents.created_at)`

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (character) => `\\${character}`)

/** The busy-too-long default of `stuck_after_s`, seconds. */
export const DEFAULT_STUCK_AFTER_S = 900

/** The SQL conditions of `filter` on live agents, for a `where` joined by AND. */
export const agentFilterClauses = (sql: SqlClient.SqlClient, filter: AgentFilter): Array<Fragment> => {
  const clauses: Array<Fragment> = [sql`deleted_at is null`]
  if (filter.boardId !== undefined) clauses.push(sql`board_id = ${filter.boardId}`)
  if (filter.gatewayId !== undefined) clauses.push(sql`gateway_id = ${filter.gatewayId}`)
  if (filter.status !== undefined) clauses.push(sql`status = ${filter.status}`)
  if (filter.state !== undefined) {
    // The first segment of a state path is the status, so the status index narrows first.
    clauses.push(sql`status = ${filter.state.split(".")[0] ?? filter.state}`)
    clauses.push(sql`(state_path = ${filter.state} or state_path like ${`${likeLiteral(filter.state)}.%`})`)
  }
  if (filter.q !== undefined) clauses.push(sql`name ilike ${`%${likeLiteral(filter.q)}%`}`)
  switch (filter.problem) {
    case "failed":
      clauses.push(sql.literal(FAILED))
      break
    case "retrying":
      clauses.push(sql.literal(RETRYING))
      break
    case "offline":
      clauses.push(sql`status = 'offline'`)
      break
    case "stuck":
      clauses.push(sql.literal(BUSY), sql.literal(`not ${FAILED}`), stuckClause(sql, filter.stuckAfterS ?? DEFAULT_STUCK_AFTER_S))
      break
    case "gateway_missing":
    case "heartbeat_mismatch":
      clauses.push(sql.literal(causeIs(filter.problem)))
      break
    case "drifted":
      clauses.push(sql.literal(DRIFTED))
      break
    case undefined:
      break
  }
  return clauses
}

const stuckClause = (sql: SqlClient.SqlClient, stuckAfterS: number) => sql`${sql.literal(ENTERED)} < now() - ${stuckAfterS} * interval '1 second'`

/** One group of live agents in the summary. */
export interface FleetGroupRow {
  readonly gatewayId: string
  readonly boardId: string | null
  readonly statePath: string
  readonly offlineReason: string | null
  readonly count: number
}

/** The problem counts the groups cannot give: each reads only the agents in trouble. */
export interface FleetProblemRow {
  readonly stuck: number
  readonly gatewayMissing: number
  readonly heartbeatMismatch: number
  readonly drifted: number
}

/**
 * The statements behind `GET /api/v1/fleet/summary`: live agents counted by gateway, board, state
 * and offline reason (an index-only scan of `agents_live_group_idx`), and one row of problem
 * counts: the busy agents past the threshold (the small `agents_busy_created_idx`, then one probe
 * of the transition index each), the offline agents by cause (`agents_status_created_idx`, then
 * their rows), and the drifted workspaces (`agent_workspace_checks_drifted_idx`, migration 0019).
 */
export const fleetQueries = (sql: SqlClient.SqlClient) => ({
  groups: () =>
    sql<FleetGroupRow>`select gateway_id, board_id, state_path, offline_reason, count(*)::int as count from agents
      where deleted_at is null group by gateway_id, board_id, state_path, offline_reason`,
  problems: (stuckAfterS: number) =>
    sql<FleetProblemRow>`select
      (select count(*)::int from agents where deleted_at is null and ${sql.literal(BUSY)} and not ${sql.literal(FAILED)} and ${stuckClause(sql, stuckAfterS)}) as stuck,
      (select count(*)::int from agents where deleted_at is null and ${sql.literal(causeIs("gateway_missing"))}) as gateway_missing,
      (select count(*)::int from agents where deleted_at is null and ${sql.literal(causeIs("heartbeat_mismatch"))}) as heartbeat_mismatch,
      (select count(*)::int from agent_workspace_checks c join agents a on a.id = c.agent_id where ${sql.literal(DRIFTED_CHECK)} and a.deleted_at is null) as drifted`
})

/** Counts of live agents by state, e.g. `{ online: 9, "provisioning.failed": 1 }`. */
export type StateCounts = Record<string, number>

/** Live agents grouped for the fleet view, with the problems that need an operator. */
export interface FleetSummary {
  readonly total: number
  readonly byState: StateCounts
  readonly gateways: ReadonlyArray<{ readonly gatewayId: string; readonly total: number; readonly byState: StateCounts }>
  readonly boards: ReadonlyArray<{ readonly boardId: string | null; readonly gatewayId: string; readonly total: number; readonly byState: StateCounts }>
  readonly problems: {
    readonly failed: number
    readonly retrying: number
    readonly offline: number
    readonly offlineByReason: ReadonlyArray<{ readonly reason: string | null; readonly count: number }>
    readonly stuck: number
    readonly stuckAfterS: number
    readonly gatewayMissing: number
    readonly heartbeatMismatch: number
    readonly drifted: number
  }
}

const isFailed = (state: string) => state.endsWith(".failed")
const isRetrying = (state: string) => state.endsWith(".retrying") || state.endsWith(".wakeRetrying")

const NO_PROBLEMS: FleetProblemRow = { stuck: 0, gatewayMissing: 0, heartbeatMismatch: 0, drifted: 0 }

/** Folds the grouped rows (and the problem counts) into the summary; groups sorted by id, boards without one last. */
export const foldFleetSummary = (rows: ReadonlyArray<FleetGroupRow>, counted: FleetProblemRow | undefined, stuckAfterS: number): FleetSummary => {
  const problems = counted ?? NO_PROBLEMS
  const byState: StateCounts = {}
  const gateways = new Map<string, { gatewayId: string; total: number; byState: StateCounts }>()
  const boards = new Map<string, { boardId: string | null; gatewayId: string; total: number; byState: StateCounts }>()
  const reasons = new Map<string | null, number>()
  let total = 0
  let failed = 0
  let retrying = 0
  let offline = 0
  const add = (counts: StateCounts, state: string, count: number) => {
    counts[state] = (counts[state] ?? 0) + count
  }
  for (const row of rows) {
    total += row.count
    add(byState, row.statePath, row.count)
    const gateway = gateways.get(row.gatewayId) ?? { gatewayId: row.gatewayId, total: 0, byState: {} }
    gateway.total += row.count
    add(gateway.byState, row.statePath, row.count)
    gateways.set(row.gatewayId, gateway)
    const boardKey = `${row.gatewayId}/${row.boardId ?? ""}`
    const board = boards.get(boardKey) ?? { boardId: row.boardId, gatewayId: row.gatewayId, total: 0, byState: {} }
    board.total += row.count
    add(board.byState, row.statePath, row.count)
    boards.set(boardKey, board)
    if (isFailed(row.statePath)) failed += row.count
    if (isRetrying(row.statePath)) retrying += row.count
    if (row.statePath.split(".")[0] === "offline") {
      offline += row.count
      reasons.set(row.offlineReason, (reasons.get(row.offlineReason) ?? 0) + row.count)
    }
  }
  const byId = (a: { gatewayId: string; boardId?: string | null }, b: { gatewayId: string; boardId?: string | null }) =>
    a.gatewayId.localeCompare(b.gatewayId) || (a.boardId ?? "~").localeCompare(b.boardId ?? "~")
  return {
    total,
    byState,
    gateways: [...gateways.values()].sort(byId),
    boards: [...boards.values()].sort(byId),
    problems: {
      failed,
      retrying,
      offline,
      offlineByReason: [...reasons.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      stuck: problems.stuck,
      stuckAfterS,
      gatewayMissing: problems.gatewayMissing,
      heartbeatMismatch: problems.heartbeatMismatch,
      drifted: problems.drifted
    }
  }
}

/** The summary: both statements of `fleetQueries`, run side by side, folded. `stuckAfterS` in seconds. */
export const readFleetSummary = (sql: SqlClient.SqlClient, stuckAfterS: number): Effect.Effect<FleetSummary, SqlError> => {
  const fleet = fleetQueries(sql)
  return Effect.all([fleet.groups(), fleet.problems(stuckAfterS)], { concurrency: 2 }).pipe(
    Effect.map(([groups, [problems]]) => foldFleetSummary(groups, problems, stuckAfterS))
  )
}
