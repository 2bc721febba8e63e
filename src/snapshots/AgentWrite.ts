import type { AgentProjection } from "../agents/agentProjection.ts"
import type { ActivityEntry } from "../store/ActivityRepo.ts"
import type { NewTransition } from "../store/TransitionRepo.ts"

/** One agent's write: its newest snapshot with everything that must commit with it. */
export interface AgentWrite {
  readonly agentId: string
  /** The snapshot's version; an older version never overwrites a newer one. */
  readonly version: number
  readonly projection: AgentProjection
  readonly snapshot: unknown
  /** Activity rows, in order. */
  readonly activity: ReadonlyArray<ActivityEntry>
  /** Transitions, in version order. */
  readonly transitions: ReadonlyArray<NewTransition>
  /**
   * A liveness change saved with this snapshot (a liveness event that left the state as it was,
   * `isBeat`): not a transition row, but the agent's newest change for the stream, at `version`,
   * labelled with its event type.
   */
  readonly beat: { readonly gatewayId: string; readonly boardId: string | null; readonly eventType: string; readonly at: Date } | undefined
  /** When set, the agent's transition history is first trimmed to this many rows. */
  readonly pruneTo: number | undefined
}
