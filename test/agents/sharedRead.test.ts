import { it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { describe, expect } from "vitest"
import { makeSharedRead } from "../../src/agents/sharedRead.ts"

/** A read per key whose answers the test releases one by one; `sent` counts the reads sent. */
const harness = Effect.gen(function* () {
  const scope = yield* Effect.scope
  let sent = 0
  const gates: Array<{ readonly key: string; readonly gate: Deferred.Deferred<number, string> }> = []
  const read = makeSharedRead(
    (key: string) => key,
    (key: string) =>
      Effect.suspend(() => {
        sent += 1
        const gate = Deferred.unsafeMake<number, string>(Effect.runSync(Effect.fiberId))
        gates.push({ key, gate })
        return Deferred.await(gate)
      }),
    scope
  )
  /** Answers the `index`th read sent for `key` (0-based) with `value`, or fails it. */
  const answer = (index: number, value: number | { fail: string }, key = "gw") =>
    Effect.suspend(() => {
      const gate = gates.filter((sentRead) => sentRead.key === key)[index]?.gate
      if (gate === undefined) return Effect.dieMessage(`read ${index} of ${key} was never sent`)
      return typeof value === "number" ? Deferred.succeed(gate, value) : Deferred.fail(gate, value.fail)
    })
  /** Waits (real time, bounded) until `count` reads have been sent. */
  const sentReach = (count: number): Effect.Effect<void> =>
    Effect.suspend(() => (sent >= count ? Effect.void : Effect.zipRight(Effect.sleep("2 millis"), sentReach(count)))).pipe(Effect.timeout("2 seconds"), Effect.orDie)
  return { read, answer, sentReach, sent: () => sent }
})

describe("makeSharedRead", () => {
  it.scopedLive("callers that ask together share one read", () =>
    Effect.gen(function* () {
      const { read, answer, sent, sentReach } = yield* harness
      const callers = yield* Effect.fork(Effect.all([read("gw"), read("gw"), read("gw")], { concurrency: "unbounded" }))
      yield* sentReach(1)
      yield* Effect.sleep("20 millis")
      expect(sent()).toBe(1)
      yield* answer(0, 7)
      expect(yield* Fiber.join(callers)).toEqual([7, 7, 7])
    })
  )

  it.scopedLive("a caller that asks while a read is in flight gets the next read, shared with the others who came meanwhile", () =>
    Effect.gen(function* () {
      const { read, answer, sent, sentReach } = yield* harness
      const first = yield* Effect.fork(read("gw"))
      yield* sentReach(1)
      const later = yield* Effect.fork(Effect.all([read("gw"), read("gw")], { concurrency: "unbounded" }))
      yield* Effect.sleep("20 millis")
      expect(sent()).toBe(1)
      // Not answered by the read that went out before they asked.
      yield* answer(0, 1)
      expect(yield* Fiber.join(first)).toBe(1)
      yield* sentReach(2)
      yield* Effect.sleep("20 millis")
      expect(sent()).toBe(2)
      expect(later.unsafePoll()).toBeNull()
      yield* answer(1, 2)
      expect(yield* Fiber.join(later)).toEqual([2, 2])
    })
  )

  it.scopedLive("keys do not share, and a failed read fails each of its callers", () =>
    Effect.gen(function* () {
      const { read, answer, sent, sentReach } = yield* harness
      const a = yield* Effect.fork(Effect.all([Effect.exit(read("a")), Effect.exit(read("a"))], { concurrency: "unbounded" }))
      const b = yield* Effect.fork(read("b"))
      yield* sentReach(2)
      yield* Effect.sleep("20 millis")
      expect(sent()).toBe(2)
      yield* answer(0, { fail: "gateway away" }, "a")
      yield* answer(0, 3, "b")
      expect(yield* Fiber.join(a)).toEqual([Exit.fail("gateway away"), Exit.fail("gateway away")])
      expect(yield* Fiber.join(b)).toBe(3)
    })
  )
})
