// @ts-check
/**
 * The fleet view's data, without the DOM: the summary as `GET /api/v1/fleet/summary` answers it,
 * kept current by the push stream's transitions, the problem an agent's state shows, and how
 * many agents a list filter should hold. Pure: runs in the browser and in Node (unit tests).
 */

/**
 * @typedef {Record<string, number>} StateCounts
 * @typedef {{ gateway_id: string, total: number, by_state: StateCounts }} GatewayCounts
 * @typedef {{ board_id: string | null, gateway_id: string, total: number, by_state: StateCounts }} BoardCounts
 * @typedef {{
 *   total: number, by_state: StateCounts, gateways: Array<GatewayCounts>, boards: Array<BoardCounts>,
 *   problems: Record<string, unknown>
 * }} FleetSummary
 *   `problems` holds a count per kind (`failed`, `retrying`, `offline`, `stuck`, and whatever
 *   kinds the server adds), plus details such as `offline_by_reason` and `stuck_after_s`.
 * @typedef {{ from: string | null, to: string, gatewayId: string, boardId: string | null }} StateChange
 * @typedef {{ q?: string, state?: string, status?: string, gateway_id?: string, board_id?: string, problem?: string }} AgentFilter
 */

/** Top-level states (the `status` column), in the order the view lists them. */
export const STATUSES = ["online", "provisioning", "updating", "offline", "deleting"]

/**
 * Problem kinds this page knows by name, most urgent first (the server's order, docs/operations.md
 * §3.6); any other kind the server reports follows `stuck`. `gateway_missing` and
 * `heartbeat_mismatch` are offline causes: such an agent is listed under its cause, not `offline`.
 */
export const KNOWN_PROBLEMS = ["failed", "retrying", "stuck", "gateway_missing", "heartbeat_mismatch", "offline", "drifted"]

/** Headings of the problem kinds (a kind this page does not know shows its own name). */
export const PROBLEM_NAMES = /** @type {Record<string, string>} */ ({
  failed: "failed",
  retrying: "retrying",
  stuck: "stuck",
  gateway_missing: "missing on gateway",
  heartbeat_mismatch: "heartbeat mismatch",
  offline: "offline",
  drifted: "workspace drift"
})

/** What each known problem means, for the list's headings and tooltips (docs/operations.md "Fleet view"). */
export const PROBLEM_LABELS = /** @type {Record<string, string>} */ ({
  failed: "failed: a step failed terminally; retry, update or delete",
  retrying: "retrying: a step failed and is being retried",
  stuck: "stuck: busy for longer than the threshold",
  gateway_missing: "missing on gateway: offline, agents.list no longer has it; retry re-provisions it",
  heartbeat_mismatch: "heartbeat mismatch: offline, the gateway runs another heartbeat than the one set; retry or a template sync re-applies it",
  offline: "offline: not heard from (every cause; the two above are also counted here)",
  drifted: "workspace drift: managed files on the gateway differ from what was written; a template sync rewrites them"
})

/** Offline causes that are problem kinds of their own. */
const CAUSE_KINDS = new Set(["gateway_missing", "heartbeat_mismatch"])

/** Summary fields under `problems` that are details, not counts of a kind. */
const PROBLEM_DETAILS = new Set(["offline_by_reason", "stuck_after_s"])

/** @param {string} state */
export const statusOf = (state) => state.split(".")[0] ?? state

/**
 * The problem kinds in the summary with their counts, most urgent first: the known ones in
 * `KNOWN_PROBLEMS` order, any kind this page does not know (e.g. added by a newer server) after
 * `retrying`, by name. Zero counts are kept (the kind exists; nothing has it now).
 * @param {FleetSummary} summary @returns {Array<{ kind: string, count: number }>}
 */
export function problemKinds(summary) {
  const kinds = Object.entries(summary.problems)
    .filter(([kind, count]) => !PROBLEM_DETAILS.has(kind) && typeof count === "number")
    .map(([kind, count]) => ({ kind, count: /** @type {number} */ (count) }))
  const rank = (/** @type {string} */ kind) => {
    const known = KNOWN_PROBLEMS.indexOf(kind)
    return known === -1 ? 2.5 : known
  }
  return kinds.sort((a, b) => rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind))
}

/**
 * @typedef {{
 *   state: string, status?: string, problem?: unknown,
 *   liveness?: { offline_cause?: string | null } | null,
 *   workspace?: { drifted?: Array<string> } | null
 * }} ProblemFields
 */

/**
 * The problem an agent's own fields show, the most urgent first: `failed` or `retrying` from its
 * state; offline under its cause when the cause is a kind (`liveness.offline_cause`), else
 * `offline`; a `problem` the server put on the agent (a kind this page may not know); `drifted`
 * when its last workspace check found drift; otherwise null. `stuck` needs the time the agent
 * entered its state, which only the server knows: it comes from `?problem=stuck` lists.
 * @param {ProblemFields} agent @returns {string | null}
 */
export function problemOf(agent) {
  if (agent.state.endsWith(".failed")) return "failed"
  if (agent.state.endsWith(".retrying") || agent.state.endsWith(".wakeRetrying")) return "retrying"
  if ((agent.status ?? statusOf(agent.state)) === "offline") {
    const cause = agent.liveness?.offline_cause
    return typeof cause === "string" && CAUSE_KINDS.has(cause) ? cause : "offline"
  }
  if (typeof agent.problem === "string" && agent.problem !== "") return agent.problem
  if ((agent.workspace?.drifted?.length ?? 0) > 0) return "drifted"
  return null
}

/** @param {StateCounts} counts @param {string} state @param {number} delta */
const bump = (counts, state, delta) => {
  const next = (counts[state] ?? 0) + delta
  if (next > 0) counts[state] = next
  else delete counts[state]
}

/**
 * Applies one transition of the push stream to the summary, in place: the agent leaves `from`
 * (none when it was created) and enters `to` (none when it was deleted), in the fleet, its
 * gateway and its board. Problem counts for `failed`, `retrying` and `offline` follow; others
 * (`stuck`, server-side kinds) wait for the next full summary. A self-transition (a heartbeat
 * of an online agent) changes nothing. Returns whether the counts changed.
 * @param {FleetSummary} summary @param {StateChange} change @returns {boolean}
 */
export function applyChange(summary, change) {
  const from = change.from
  const to = change.to === "deleted" ? null : change.to
  if (from === to) return false
  let gateway = summary.gateways.find((entry) => entry.gateway_id === change.gatewayId)
  if (gateway === undefined) {
    gateway = { gateway_id: change.gatewayId, total: 0, by_state: {} }
    summary.gateways.push(gateway)
  }
  let board = summary.boards.find((entry) => entry.gateway_id === change.gatewayId && entry.board_id === change.boardId)
  if (board === undefined) {
    board = { board_id: change.boardId, gateway_id: change.gatewayId, total: 0, by_state: {} }
    summary.boards.push(board)
  }
  for (const [state, delta] of /** @type {Array<[string | null, number]>} */ ([
    [from, -1],
    [to, 1]
  ])) {
    if (state === null) continue
    for (const group of [summary, gateway, board]) {
      bump(group.by_state, state, delta)
      group.total = Math.max(0, group.total + delta)
    }
    const kind = problemOf({ state })
    if (kind !== null && typeof summary.problems[kind] === "number") summary.problems[kind] = Math.max(0, /** @type {number} */ (summary.problems[kind]) + delta)
  }
  return true
}

/**
 * How many agents a list filter holds, from the summary; null when it cannot tell (a name search,
 * or a problem combined with other filters). The list sizes its scroll area with it.
 * @param {FleetSummary} summary @param {AgentFilter} filter @returns {number | null}
 */
export function expectedCount(summary, filter) {
  if (filter.q !== undefined && filter.q !== "") return null
  const scoped = filter.gateway_id !== undefined || filter.board_id !== undefined
  if (filter.problem !== undefined) {
    const count = summary.problems[filter.problem]
    return !scoped && filter.state === undefined && filter.status === undefined && typeof count === "number" ? count : null
  }
  /** @type {{ total: number, by_state: StateCounts } | undefined} */
  let group = summary
  if (filter.board_id !== undefined) {
    const boards = summary.boards.filter((board) => board.board_id === filter.board_id && (filter.gateway_id === undefined || board.gateway_id === filter.gateway_id))
    group = boards[0]
  } else if (filter.gateway_id !== undefined) group = summary.gateways.find((gateway) => gateway.gateway_id === filter.gateway_id)
  if (group === undefined) return 0
  return Object.entries(group.by_state)
    .filter(([state]) => filter.status === undefined || statusOf(state) === filter.status)
    .filter(([state]) => filter.state === undefined || state === filter.state || state.startsWith(`${filter.state}.`))
    .reduce((sum, [, count]) => sum + count, 0)
}

/**
 * The states of `counts` in the view's order: by top-level state (`STATUSES`), then by name.
 * @param {StateCounts} counts @returns {Array<[string, number]>}
 */
export function orderedStates(counts) {
  const rank = (/** @type {string} */ state) => {
    const index = STATUSES.indexOf(statusOf(state))
    return index === -1 ? STATUSES.length : index
  }
  return Object.entries(counts).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
}
