import type { SqlError } from "@effect/sql/SqlError"
import type { Effect, Stream } from "effect"
import type { TransitionFilter, TransitionWithAgent } from "../store/TransitionRepo.ts"
import type { AgentStreamClosed, AgentStreamOverflow } from "./AgentStreamErrors.ts"

/**
 * One committed transition with its agent's read model as read right after it committed (so at
 * `transition.version` or later); `cursor` is its place in the global, commit-ordered stream.
 */
export interface AgentChange extends TransitionWithAgent {
  readonly cursor: number
}

/** On the transition's board and gateway (where the agent was when it happened). */
export type AgentChangeFilter = TransitionFilter

export interface AgentChangeFeedShape {
  /**
   * Every change matching `filter`, each once, in cursor order. With `after` (a cursor), first
   * the stored transitions after it (as far as retention keeps them), then live ones as they
   * commit on any instance; without it, live ones only. It subscribes before it replays and
   * drops live changes the replay already gave, so the seam has no gap and no duplicate.
   * Fails with AgentStreamOverflow when the consumer falls `CLIENT_BUFFER` changes behind
   * (resume from the last cursor: nothing is lost), AgentStreamClosed once `close` ran, and
   * SqlError when the replay cannot read.
   */
  readonly changes: (
    filter: AgentChangeFilter,
    after: number | undefined
  ) => Stream.Stream<AgentChange, AgentStreamOverflow | AgentStreamClosed | SqlError>
  /** Consumers of `changes` on this instance. */
  readonly subscribers: Effect.Effect<number>
  /**
   * Ends every stream of this instance (AgentStreamClosed) and every later one. Run before the
   * HTTP server closes: it waits for open responses, and a stream never ends by itself.
   */
  readonly close: Effect.Effect<void>
}
