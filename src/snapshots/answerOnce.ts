import type { SqlError } from "@effect/sql/SqlError"
import { Effect, type Exit, Runtime } from "effect"
import type { SnapshotWriteRefused } from "./SnapshotWriteRefused.ts"

/** Called once with a queued write's outcome. */
export type WriteDone = (exit: Exit.Exit<void, SqlError | SnapshotWriteRefused>) => void

/**
 * `done` answered at most once (docs/architecture.md §6.5): a later answer (the shutdown's,
 * after a crashed batch's) is dropped, and a `done` that throws is logged on `runtime` with
 * `agentId`, so it never leaves the rest of its batch unanswered.
 */
export const answerOnce = (runtime: Runtime.Runtime<never>, agentId: string, done: WriteDone): WriteDone => {
  // A callback that throws must not leave the rest of its batch unanswered.
  // Answered once: a later answer (the shutdown's, after a crashed batch's) is dropped.
  let answered = false
  const answer: WriteDone = (exit) => {
    if (answered) return
    answered = true
    try {
      done(exit)
    } catch (error) {
      Runtime.runFork(runtime)(Effect.logError(`agent ${agentId}: handling the outcome of its snapshot write failed`, error))
    }
  }
  return answer
}
