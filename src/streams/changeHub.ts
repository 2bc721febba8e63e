import { Deferred, Effect, Queue, type Scope } from "effect"

/** One subscriber's view: its own bounded queue, and a signal that it was dropped. */
export interface ChangeSubscription<A> {
  readonly queue: Queue.Dequeue<A>
  /** Completes when the subscriber fell `capacity` changes behind; it gets nothing more. */
  readonly overflowed: Deferred.Deferred<void>
}

/**
 * In-process fan-out of changes to any number of subscribers, each with a filter and a queue
 * of its own (an Effect `PubSub` shares one buffer, so one slow subscriber would hold back, or
 * drop changes for, all the others). Publishing never waits: a subscriber whose queue is full
 * is dropped, so memory stays bounded by subscribers × capacity.
 */
export interface ChangeHub<A> {
  /** Hands `change` to every subscriber that accepts it; synchronous. */
  readonly publish: (change: A) => void
  /** A subscriber until the scope closes. */
  readonly subscribe: (accepts: (change: A) => boolean, capacity: number) => Effect.Effect<ChangeSubscription<A>, never, Scope.Scope>
  /** Current subscribers. */
  readonly size: () => number
}

interface Subscriber<A> extends ChangeSubscription<A> {
  readonly accepts: (change: A) => boolean
  readonly queue: Queue.Queue<A>
}

export const makeChangeHub = <A>(): ChangeHub<A> => {
  const subscribers = new Set<Subscriber<A>>()
  return {
    publish: (change) => {
      for (const subscriber of subscribers) {
        if (!subscriber.accepts(change)) continue
        // A bounded queue refuses rather than suspends when full.
        if (!Queue.unsafeOffer(subscriber.queue, change)) {
          subscribers.delete(subscriber)
          Deferred.unsafeDone(subscriber.overflowed, Effect.void)
        }
      }
    },
    subscribe: (accepts, capacity) =>
      Effect.acquireRelease(
        Effect.gen(function* () {
          const subscriber: Subscriber<A> = { accepts, queue: yield* Queue.bounded<A>(capacity), overflowed: yield* Deferred.make<void>() }
          subscribers.add(subscriber)
          return subscriber
        }),
        (subscriber) => Effect.zipRight(Effect.sync(() => subscribers.delete(subscriber)), Queue.shutdown(subscriber.queue))
      ),
    size: () => subscribers.size
  }
}
