/** One transition of one agent, as the snapshot writer records it. */
export interface NewTransition {
  readonly gatewayId: string
  readonly boardId: string | null
  /** The agent's snapshot version this transition produced. */
  readonly version: number
  /** Full state path before (`provisioning.awaiting`); null for a new agent's first state. */
  readonly fromState: string | null
  readonly toState: string
  /** The type of the event that caused it (`agent.heartbeat`, `apply.failed`, `xstate.init`…). */
  readonly eventType: string
  /** The `_tag` of the typed error the event carried (`*.failed` events), else null. */
  readonly errorTag: string | null
  readonly at: Date
}

/** A transition as the group commit records it: for `agentId`, at `rank` in its transaction (`changeCursor.ts`). */
export interface RankedTransition extends NewTransition {
  readonly agentId: string
  readonly rank: number
}

/** The `agent_transitions` row of `t` (its time as an ISO string; docs/architecture.md §6.5). */
export const transitionRow = (t: RankedTransition) => ({
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
