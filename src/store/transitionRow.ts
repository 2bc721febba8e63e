/**
 * A transition as a save inserts it (structurally `TransitionRepo`'s `RankedTransition`, which
 * this module does not import: that one depends on `AgentRepo`), and its row for the
 * `agent_transitions` insert (docs/architecture.md §6.5).
 */
export interface SavedTransition {
  readonly agentId: string
  readonly gatewayId: string
  readonly boardId: string | null
  readonly version: number
  readonly fromState: string | null
  readonly toState: string
  readonly eventType: string
  readonly errorTag: string | null
  readonly at: Date
  /** Its place among the changes of its transaction (the cursor's low bits, docs/architecture.md §8.1). */
  readonly rank: number
}

/** The `agent_transitions` row of `t` (its time as an ISO string). */
export const transitionRow = (t: SavedTransition) => ({
  agent_id: t.agentId,
  gateway_id: t.gatewayId,
  board_id: t.boardId,
  version: t.version,
  from_state: t.fromState,
  to_state: t.toState,
  event_type: t.eventType,
  error_tag: t.errorTag,
  at: t.at.toISOString(),
  rank: t.rank
})
