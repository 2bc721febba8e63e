import { Chunk, Deferred, Effect, Fiber, Option, Stream, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { CLIENT_BUFFER, makeAgentChangeFeedTest, AgentChangeFeed, type AgentChange } from "../../src/streams/AgentChangeFeed.ts"
import { agentChanges } from "../../src/streams/agentChanges.ts"
import { makeChangeHub } from "../../src/streams/changeHub.ts"
import { sseBody } from "../../src/streams/http/sseBody.ts"
import { PING_EVERY } from "../../src/streams/sse.ts"

/** A change with just what the feed looks at (cursor, board, gateway). */
const change = (cursor: number, boardId = "b1", gatewayId = "g1") =>
  ({ cursor, transition: { id: String(cursor), boardId, gatewayId }, agent: {} }) as unknown as AgentChange

const cursors = (changes: Chunk.Chunk<AgentChange>) => Chunk.toReadonlyArray(changes).map((c) => c.cursor)

/** Yields until `count` consumers have subscribed (the stream subscribes on its own fiber). */
const subscribed = (subscribers: Effect.Effect<number>, count: number) =>
  Effect.gen(function* () {
    while ((yield* subscribers) < count) yield* Effect.yieldNow()
  })

describe("changeHub: bounded per-subscriber fan-out", () => {
  it.scoped("a subscriber gets the changes it accepts; one that falls `capacity` behind is dropped, the others are not", () =>
    Effect.gen(function* () {
      const hub = makeChangeHub<number>()
      const slow = yield* hub.subscribe(() => true, 2)
      const even = yield* hub.subscribe((n) => n % 2 === 0, 10)
      for (const n of [1, 2, 3, 4]) hub.publish(n)
      expect(yield* Deferred.poll(slow.ended).pipe(Effect.flatMap((ended) => ended._tag === "Some" ? ended.value : Effect.succeed("running")))).toBe("overflow")
      expect(hub.size()).toBe(1)
      expect(Chunk.toReadonlyArray(yield* even.queue.takeAll)).toEqual([2, 4])
    })
  )

  it.scoped("close ends every subscriber, its queue shut down, and any later one at once", () =>
    Effect.gen(function* () {
      const hub = makeChangeHub<number>()
      const before = yield* hub.subscribe(() => true, 10)
      hub.close()
      const after = yield* hub.subscribe(() => true, 10)
      expect(yield* Deferred.await(before.ended)).toBe("closed")
      expect(yield* Deferred.await(after.ended)).toBe("closed")
      hub.publish(1)
      // Its queue is shut down, so a consumer waiting on it wakes at once (nothing more is queued).
      expect(yield* before.queue.isShutdown).toBe(true)
      expect(yield* after.queue.isShutdown).toBe(true)
    })
  )

  it.effect("closing the subscriber's scope removes it", () =>
    Effect.gen(function* () {
      const hub = makeChangeHub<number>()
      yield* Effect.scoped(Effect.andThen(hub.subscribe(() => true, 1), () => expect(hub.size()).toBe(1)))
      expect(hub.size()).toBe(0)
      hub.publish(1)
    })
  )
})

describe("AgentChangeFeed.changes: replay then live, at the seam no gap and no duplicate", () => {
  it.scoped("after a cursor: the stored changes after it, then live ones; a change both replayed and queued live comes once", () =>
    Effect.gen(function* () {
      const hub = makeChangeHub<AgentChange>()
      const stored = [change(1), change(2), change(3)]
      // The replay's read waits for the gate, so a change can commit between subscribe and read.
      const gate = yield* Deferred.make<void>()
      const changes = agentChanges(hub, {
        after: (cursor) => Effect.zipRight(Deferred.await(gate), Effect.sync(() => stored.filter((c) => c.cursor > cursor))),
        latestCursor: Effect.sync(() => stored.at(-1)!.cursor)
      })
      const fiber = yield* changes({}, 1).pipe(Stream.take(4), Stream.runCollect, Effect.fork)
      yield* subscribed(Effect.sync(hub.size), 1)
      stored.push(change(4))
      hub.publish(change(4))
      yield* Deferred.succeed(gate, undefined)
      hub.publish(change(5))
      expect(cursors(yield* Fiber.join(fiber))).toEqual([2, 3, 4, 5])
    })
  )

  it.scoped("without a cursor, live only; filters apply to the transition's board and gateway", () =>
    Effect.gen(function* () {
      const feed = makeAgentChangeFeedTest()
      feed.publish(change(1))
      const changes = yield* Effect.provide(AgentChangeFeed, feed.layer)
      const onBoard = yield* changes.changes({ boardId: "b2" }, undefined).pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      const onGateway = yield* changes.changes({ gatewayId: "g2" }, undefined).pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      yield* subscribed(changes.subscribers, 2)
      feed.publish(change(2, "b1", "g1"))
      feed.publish(change(3, "b2", "g1"))
      feed.publish(change(4, "b3", "g2"))
      feed.publish(change(5, "b2", "g2"))
      expect(cursors(yield* Fiber.join(onBoard))).toEqual([3, 5])
      expect(cursors(yield* Fiber.join(onGateway))).toEqual([4])
      expect(yield* changes.subscribers).toBe(0)
    })
  )

  it.scoped("a cursor beyond the newest stored one (another database) does not hide live changes", () =>
    Effect.gen(function* () {
      const feed = makeAgentChangeFeedTest()
      feed.publish(change(1))
      const changes = yield* Effect.provide(AgentChangeFeed, feed.layer)
      const fiber = yield* changes.changes({}, 1_000).pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      yield* subscribed(changes.subscribers, 1)
      feed.publish(change(2))
      expect(cursors(yield* Fiber.join(fiber))).toEqual([2])
    })
  )

  it.scoped("a consumer more than CLIENT_BUFFER changes behind fails with AgentStreamOverflow instead of buffering", () =>
    Effect.gen(function* () {
      const feed = makeAgentChangeFeedTest()
      const changes = yield* Effect.provide(AgentChangeFeed, feed.layer)
      // Stalls on the first change (a client not reading) while the rest pile up, then reads on.
      const release = yield* Deferred.make<void>()
      const stalled = yield* changes.changes({}, undefined).pipe(
        Stream.tap(() => Deferred.await(release)),
        Stream.runDrain,
        Effect.flip,
        Effect.fork
      )
      yield* subscribed(changes.subscribers, 1)
      for (let n = 1; n <= CLIENT_BUFFER + 2; n++) feed.publish(change(n))
      // Dropped at once: nothing more is queued for it, whatever it does next.
      expect(yield* changes.subscribers).toBe(0)
      yield* Deferred.succeed(release, undefined)
      const error = yield* Fiber.join(stalled)
      expect(error).toMatchObject({ _tag: "AgentStreamOverflow", capacity: CLIENT_BUFFER })
    })
  )
})

describe("sseBody", () => {
  it.scoped("a retry hint first, a frame per change with the cursor as id, a ping every 15 s while quiet; a dropped client gets a closing comment", () =>
    Effect.gen(function* () {
      const feed = makeAgentChangeFeedTest()
      const changes = yield* Effect.provide(AgentChangeFeed, feed.layer)
      const body = yield* sseBody(changes.changes({}, undefined), PING_EVERY).pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      yield* subscribed(changes.subscribers, 1)
      yield* TestClock.adjust("15 seconds")
      expect(Chunk.toReadonlyArray(yield* Fiber.join(body))).toEqual(["retry: 2000\n\n", ": ping\n\n"])
      const overflow = Stream.fail({ _tag: "AgentStreamOverflow", capacity: 7 } as never)
      const closing = yield* sseBody(overflow, PING_EVERY).pipe(Stream.runCollect)
      expect(Chunk.toReadonlyArray(closing).at(-1)).toBe(": dropped: more than 7 changes behind; reconnect with Last-Event-ID\n\n")
      expect(Option.isSome(Chunk.head(closing))).toBe(true)
      // Shutting down: every open stream ends with a comment saying so.
      const open = yield* sseBody(changes.changes({}, undefined), PING_EVERY).pipe(Stream.runCollect, Effect.fork)
      yield* subscribed(changes.subscribers, 1)
      yield* changes.close
      expect(Chunk.toReadonlyArray(yield* Fiber.join(open)).at(-1)).toBe(": closing: the service is shutting down; reconnect with Last-Event-ID\n\n")
    })
  )
})
