import { it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option } from "effect"
import { describe, expect } from "vitest"
import { concurrently } from "../../../src/agents/programs/concurrently.ts"

describe("concurrently", () => {
  it.effect("runs every effect at once and answers their results in order", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const fastDone = yield* Deferred.make<void>()
      const slow = Effect.as(Deferred.await(gate), "slow")
      const fast = Effect.as(Deferred.succeed(fastDone, undefined), 2)
      const fiber = yield* Effect.fork(concurrently([slow, fast, Effect.succeed(true)]))
      // The fast effect ends while the slow one waits: they are not run one after the other.
      yield* Deferred.await(fastDone)
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(fiber)).toEqual(["slow", 2, true])
      expect(yield* concurrently([])).toEqual([])
    })
  )

  /** An uninterruptible write (ends once released), an endless wait, and their latches. */
  const harness = Effect.gen(function* () {
    const events: Array<string> = []
    const release = yield* Deferred.make<void>()
    const writeStarted = yield* Deferred.make<void>()
    const waitStarted = yield* Deferred.make<void>()
    const waitInterrupted = yield* Deferred.make<void>()
    const write = Effect.uninterruptible(
      Effect.zipRight(Effect.zipRight(Deferred.succeed(writeStarted, undefined), Deferred.await(release)), Effect.sync(() => events.push("write ended")))
    )
    const waiting = Effect.onInterrupt(Effect.zipRight(Deferred.succeed(waitStarted, undefined), Effect.never), () =>
      Effect.zipRight(Effect.sync(() => events.push("waiting interrupted")), Deferred.succeed(waitInterrupted, undefined))
    )
    const bothStarted = Effect.zipRight(Deferred.await(writeStarted), Deferred.await(waitStarted))
    return { events, release, write, waiting, bothStarted, waitInterrupted }
  })

  it.effect("the first failure interrupts the others and waits for them to end", () =>
    Effect.gen(function* () {
      const { events, release, write, waiting, bothStarted, waitInterrupted } = yield* harness
      const failing = Effect.zipRight(bothStarted, Effect.fail("refused" as const))
      const fiber = yield* Effect.fork(concurrently([write, waiting, failing]))
      yield* Deferred.await(waitInterrupted)
      // Still waiting for the uninterruptible write (as Effect.all does).
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* Deferred.succeed(release, undefined)
      const exit = yield* Fiber.await(fiber)
      expect(events).toEqual(["waiting interrupted", "write ended"])
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toEqual(Option.some("refused"))
    })
  )

  it.effect("every failure is in the cause, the first one first", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(concurrently([Effect.fail("first"), Effect.uninterruptible(Effect.zipRight(Effect.yieldNow(), Effect.fail("second")))]))
      expect(Exit.isFailure(exit) && Cause.failures(exit.cause)).toEqual(expect.objectContaining({ length: 2 }))
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toEqual(Option.some("first"))
    })
  )

  it.effect("an interrupted caller interrupts every effect and waits for them to end", () =>
    Effect.gen(function* () {
      const { events, release, write, waiting, bothStarted, waitInterrupted } = yield* harness
      const fiber = yield* Effect.fork(Effect.ensuring(concurrently([write, waiting]), Effect.sync(() => events.push("caller ended"))))
      yield* bothStarted
      const interrupted = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* Deferred.await(waitInterrupted)
      expect(Option.isNone(yield* Fiber.poll(interrupted))).toBe(true)
      yield* Deferred.succeed(release, undefined)
      const exit = yield* Fiber.join(interrupted)
      expect(events).toEqual(["waiting interrupted", "write ended", "caller ended"])
      expect(Exit.isInterrupted(exit)).toBe(true)
    })
  )

  it.effect("in an uninterruptible region the effects are uninterruptible too; a restored one is not", () =>
    Effect.gen(function* () {
      const flags = yield* Effect.uninterruptibleMask((restore) =>
        concurrently([Effect.checkInterruptible(Effect.succeed), restore(Effect.checkInterruptible(Effect.succeed))])
      )
      expect(flags).toEqual([false, true])
      expect(yield* concurrently([Effect.checkInterruptible(Effect.succeed)])).toEqual([true])
    })
  )
})
