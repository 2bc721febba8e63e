import { Deferred, Effect, FiberId, type Scope } from "effect"

interface Slot<I, A, E> {
  /** The input the next read is made with (the latest caller's). */
  input: I
  inFlight: boolean
  /** The read the callers that came while one was in flight wait for. */
  next: Deferred.Deferred<A, E> | undefined
}

/**
 * Reads shared per key, as a group commit shares a flush: every caller gets the result of a
 * read sent after it asked, so the answer reflects whatever the caller did before. With no read
 * in flight for the key, one goes out at once; callers that ask while one is in flight all wait
 * for the next one, sent as soon as the current one ends. At most one read per key is in flight
 * and one waiting, however many callers there are. Reads run in `scope`: a caller that stops
 * waiting does not cancel a read others share. A failure is every sharer's.
 */
export const makeSharedRead = <I, A, E>(keyOf: (input: I) => string, read: (input: I) => Effect.Effect<A, E>, scope: Scope.Scope) => {
  const slots = new Map<string, Slot<I, A, E>>()

  const start = (key: string, slot: Slot<I, A, E>, done: Deferred.Deferred<A, E>): Effect.Effect<void> =>
    read(slot.input).pipe(
      Effect.exit,
      Effect.flatMap((exit) => Deferred.done(done, exit)),
      Effect.zipRight(
        Effect.suspend(() => {
          const next = slot.next
          slot.next = undefined
          if (next !== undefined) return start(key, slot, next)
          slot.inFlight = false
          slots.delete(key)
          return Effect.void
        })
      ),
      Effect.forkIn(scope),
      Effect.asVoid
    )

  return (input: I): Effect.Effect<A, E> =>
    Effect.flatMap(
      // Joining and starting are one step: an interruption between them would leave the key stuck.
      Effect.uninterruptible(
        Effect.suspend(() => {
          const key = keyOf(input)
          const slot = slots.get(key) ?? { input, inFlight: false, next: undefined }
          slots.set(key, slot)
          slot.input = input
          if (slot.inFlight) {
            slot.next ??= Deferred.unsafeMake<A, E>(FiberId.none)
            return Effect.succeed(slot.next)
          }
          slot.inFlight = true
          const done = Deferred.unsafeMake<A, E>(FiberId.none)
          return Effect.as(start(key, slot, done), done)
        })
      ),
      Deferred.await
    )
}
