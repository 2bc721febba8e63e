import { Deferred, Effect, FiberId, type Scope } from "effect"

interface Slot<I, A, E> {
  /** The input the next read is made with (the latest caller's). */
  input: I
  /** A reader fiber is running for the key. */
  running: boolean
  /** The read not yet sent, which every caller that asks now joins. */
  next: Deferred.Deferred<A, E> | undefined
}

/**
 * Reads shared per key, as a group commit shares a flush: every caller gets the result of a
 * read sent after it asked, so the answer reflects whatever the caller did before. Callers that
 * ask before a read goes out (within the same turn of the event loop) join it; those that ask
 * while it is in flight all wait for the next one, sent as soon as it ends. So at most one read
 * per key is in flight and one waiting, however many callers there are. Reads run in `scope`: a
 * caller that stops waiting does not cancel a read others share. A failure is every sharer's.
 */
export const makeSharedRead = <I, A, E>(keyOf: (input: I) => string, read: (input: I) => Effect.Effect<A, E>, scope: Scope.Scope) => {
  const slots = new Map<string, Slot<I, A, E>>()

  /** Sends the waiting read, then the one gathered meanwhile, until nobody waits. */
  const reader = (key: string, slot: Slot<I, A, E>): Effect.Effect<void> =>
    Effect.zipRight(
      // Callers woken together (a batch answered at once) ask one after the other: let them join.
      Effect.yieldNow(),
      Effect.suspend(() => {
        const done = slot.next
        slot.next = undefined
        if (done === undefined) {
          slot.running = false
          slots.delete(key)
          return Effect.void
        }
        return read(slot.input).pipe(
          Effect.exit,
          Effect.flatMap((exit) => Deferred.done(done, exit)),
          Effect.zipRight(reader(key, slot))
        )
      })
    )

  return (input: I): Effect.Effect<A, E> =>
    Effect.flatMap(
      // Joining and starting the reader are one step: an interruption between them would leave the key stuck.
      Effect.uninterruptible(
        Effect.suspend(() => {
          const key = keyOf(input)
          const slot = slots.get(key) ?? { input, running: false, next: undefined }
          slots.set(key, slot)
          slot.input = input
          const next = (slot.next ??= Deferred.unsafeMake<A, E>(FiberId.none))
          if (slot.running) return Effect.succeed(next)
          slot.running = true
          return Effect.as(Effect.forkIn(reader(key, slot), scope), next)
        })
      ),
      Deferred.await
    )
}
