import type { SqlError } from "@effect/sql/SqlError"
import { Deferred, Effect, Exit, FiberId, Option } from "effect"

/** Reads per statement at most. */
const MAX_BATCH = 1_000

interface Waiting<R> {
  readonly id: string
  readonly done: Deferred.Deferred<Option.Option<R>, SqlError>
}

/**
 * One-row reads by id, batched as group commit batches writes (docs/architecture.md §6.5): a
 * read that finds none in flight starts one statement; reads that arrive meanwhile share the
 * next. A lone read waits for nobody; under load a statement serves a whole batch. Each read
 * answers its row as the statement that served it found it, none when there is no such row, or
 * that statement's SqlError. `readMany` must answer rows by their `id`.
 */
export const batchedReads = <R extends { readonly id: string }>(readMany: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<R>, SqlError>) => {
  let queued: Array<Waiting<R>> = []
  let reading = false
  const settle = (batch: ReadonlyArray<Waiting<R>>, exit: Exit.Exit<ReadonlyArray<R>, SqlError>) => {
    if (Exit.isFailure(exit)) {
      for (const waiting of batch) Deferred.unsafeDone(waiting.done, Exit.failCause(exit.cause))
      return
    }
    const rows = new Map(exit.value.map((row) => [row.id, row]))
    for (const waiting of batch) Deferred.unsafeDone(waiting.done, Exit.succeed(Option.fromNullable(rows.get(waiting.id))))
  }
  // One statement for the reads queued now; its readers are answered (interrupted if it is).
  const step: Effect.Effect<void> = Effect.suspend(() => {
    const batch = queued.slice(0, MAX_BATCH)
    queued = queued.slice(batch.length)
    return readMany([...new Set(batch.map((waiting) => waiting.id))]).pipe(
      Effect.exit,
      Effect.flatMap((exit) => Effect.sync(() => settle(batch, exit))),
      Effect.onInterrupt(() => Effect.sync(() => settle(batch, Exit.interrupt(FiberId.none))))
    )
  })
  // After a statement: reads queued meanwhile get the next one, on a fiber of its own; else reading stops.
  const next: Effect.Effect<void> = Effect.suspend(() =>
    queued.length > 0 ? Effect.asVoid(Effect.forkDaemon(Effect.ensuring(step, next))) : Effect.sync(() => void (reading = false))
  )
  // Queueing, claiming `reading` and installing `next` are one uninterruptible step: an
  // interruption between them would leave `reading` set with nobody to read, and every later read waiting.
  return (id: string): Effect.Effect<Option.Option<R>, SqlError> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const done = Deferred.unsafeMake<Option.Option<R>, SqlError>(FiberId.none)
        queued.push({ id, done })
        if (reading) return restore(Deferred.await(done))
        reading = true
        // A lone read runs its statement on the caller's fiber (no hop); `next` runs even if the caller is interrupted.
        return Effect.zipRight(Effect.ensuring(restore(step), next), restore(Deferred.await(done)))
      })
    )
}
