import { Deferred, Effect, Queue, type Scope } from "effect"

/** Why a subscriber gets nothing more: it fell `capacity` behind, or the hub was closed. */
export type ChangeHubEnd = "overflow" | "closed"

/** One subscriber's view: its own bounded queue, and the signal that it was cut off. */
export interface ChangeSubscription<A> {
  readonly queue: Queue.Dequeue<A>
  /** Completes, with the reason, when the subscriber is cut off; nothing more is queued then, and the queue is shut down (a waiting taker wakes at once). */
  readonly ended: Deferred.Deferred<ChangeHubEnd>
}

/**
 * In-process fan-out of changes to any number of subscribers, each with a filter and a queue
 * of its own (an Effect `PubSub` shares one buffer, so one slow subscriber would hold back, or
 * drop changes for, all the others). Publishing never waits: a subscriber whose queue is full
 * is cut off, so memory stays bounded by subscribers × capacity.
 */
export interface ChangeHub<A> {
  /** Hands `change` to every subscriber that accepts it; synchronous. */
  readonly publish: (change: A) => void
  /** A subscriber until the scope closes (one that subscribes after `close` is ended at once). */
  readonly subscribe: (accepts: (change: A) => boolean, capacity: number) => Effect.Effect<ChangeSubscription<A>, never, Scope.Scope>
  /** Ends every subscriber ("closed") and every later one. */
  readonly close: () => void
  /** Current subscribers. */
  readonly size: () => number
}

interface Subscriber<A> extends ChangeSubscription<A> {
  readonly accepts: (change: A) => boolean
  readonly queue: Queue.Queue<A>
}

export const makeChangeHub = <A>(): ChangeHub<A> => {
  const subscribers = new Set<Subscriber<A>>()
  let closed = false
  const end = (subscriber: Subscriber<A>, reason: ChangeHubEnd) => {
    subscribers.delete(subscriber)
    Deferred.unsafeDone(subscriber.ended, Effect.succeed(reason))
    // Synchronous: it only interrupts the queue's waiting takers.
    Effect.runSync(Queue.shutdown(subscriber.queue))
  }
  return {
    publish: (change) => {
      for (const subscriber of subscribers) {
        // A bounded queue refuses rather than suspends when full.
        if (subscriber.accepts(change) && !Queue.unsafeOffer(subscriber.queue, change)) end(subscriber, "overflow")
      }
    },
    subscribe: (accepts, capacity) =>
      Effect.acquireRelease(
        Effect.gen(function* () {
          const subscriber: Subscriber<A> = { accepts, queue: yield* Queue.bounded<A>(capacity), ended: yield* Deferred.make<ChangeHubEnd>() }
          subscribers.add(subscriber)
          if (closed) end(subscriber, "closed")
          return subscriber
        }),
        (subscriber) => Effect.zipRight(Effect.sync(() => subscribers.delete(subscriber)), Queue.shutdown(subscriber.queue))
      ),
    close: () => {
      closed = true
      for (const subscriber of subscribers) end(subscriber, "closed")
    },
    size: () => subscribers.size
  }
}
