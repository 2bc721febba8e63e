import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Deferred, Effect, Exit, FiberId, FiberRef } from "effect"

/** Inputs per statement at most. */
const MAX_BATCH = 1_000

/** A context without a caller's transaction connection: its statements take a pool connection. */
const outsideTransaction = Context.omit(SqlClient.TransactionConnection)

interface Waiting<I, O> {
  readonly input: I
  readonly done: Deferred.Deferred<O, SqlError>
}

/**
 * One statement per batch of calls, as group commit batches writes (docs/architecture.md §6.5): a
 * call that finds no statement in flight starts one; calls that arrive meanwhile share the next
 * (at most `MAX_BATCH` inputs). A lone call waits for nobody; under load a statement serves a
 * whole batch. `runMany` answers one output per input, in the inputs' order; each caller gets its
 * own, or that statement's SqlError (interrupted if the statement is). The statement never runs
 * in a caller's transaction (`SqlClient.TransactionConnection` is left out of its context): it
 * serves other callers, and the fiber that runs it may outlive that transaction's connection.
 */
export const batchedStatements = <I, O>(runMany: (inputs: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<O>, SqlError>) => {
  let queued: Array<Waiting<I, O>> = []
  let running = false
  const settle = (batch: ReadonlyArray<Waiting<I, O>>, exit: Exit.Exit<ReadonlyArray<O>, SqlError>) => {
    batch.forEach((waiting, i) =>
      Deferred.unsafeDone(waiting.done, Exit.isFailure(exit) ? Exit.failCause(exit.cause) : Exit.succeed(exit.value[i]!))
    )
  }
  // One statement for the calls queued now; its callers are answered (interrupted if it is).
  const step: Effect.Effect<void> = Effect.suspend(() => {
    const batch = queued.slice(0, MAX_BATCH)
    queued = queued.slice(batch.length)
    return runMany(batch.map((waiting) => waiting.input)).pipe(
      Effect.locallyWith(FiberRef.currentContext, outsideTransaction),
      Effect.exit,
      Effect.flatMap((exit) => Effect.sync(() => settle(batch, exit))),
      Effect.onInterrupt(() => Effect.sync(() => settle(batch, Exit.interrupt(FiberId.none))))
    )
  })
  // After a statement: calls queued meanwhile get the next one, on a fiber of its own; else running stops.
  const next: Effect.Effect<void> = Effect.suspend(() =>
    queued.length > 0 ? Effect.asVoid(Effect.forkDaemon(Effect.ensuring(step, next))) : Effect.sync(() => void (running = false))
  )
  // Queueing, claiming `running` and installing `next` are one uninterruptible step: an
  // interruption between them would leave `running` set with nobody to run, and every later call waiting.
  return (input: I): Effect.Effect<O, SqlError> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const done = Deferred.unsafeMake<O, SqlError>(FiberId.none)
        queued.push({ input, done })
        if (running) return restore(Deferred.await(done))
        running = true
        // A lone call runs its statement on the caller's fiber (no hop); `next` runs even if the caller is interrupted.
        return Effect.zipRight(Effect.ensuring(restore(step), next), restore(Deferred.await(done)))
      })
    )
}
