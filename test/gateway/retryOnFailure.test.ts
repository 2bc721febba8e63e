import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schedule } from "effect"
import { retryOnFailure } from "../../src/gateway/retryPolicies.ts"

/** An effect failing its first `failures` runs with `error(n)`, then succeeding; `runs` counts the attempts. */
const flaky = (failures: number, error: (attempt: number) => string = () => "transient") => {
  let runs = 0
  const effect = Effect.suspend(() => {
    runs += 1
    return runs <= failures ? Effect.fail(error(runs)) : Effect.succeed(runs)
  })
  return { effect, runs: () => runs }
}

describe("retryOnFailure", () => {
  it.live("makes the attempts Effect.retry makes: a transient failure is retried up to `times`", () =>
    Effect.gen(function* () {
      const options = { schedule: Schedule.spaced("1 millis"), times: 3, while: (error: string) => error === "transient" }
      for (const failures of [0, 1, 3, 4]) {
        const ours = flaky(failures)
        const theirs = flaky(failures)
        const a = yield* Effect.either(ours.effect.pipe(retryOnFailure(options)))
        const b = yield* Effect.either(Effect.retry(theirs.effect, options))
        expect(a).toEqual(b)
        expect(ours.runs()).toBe(theirs.runs())
      }
    }))

  it.live("fails at once with an error `while` does not retry, and stops at the first such error", () =>
    Effect.gen(function* () {
      const options = { schedule: Schedule.spaced("1 millis"), times: 5, while: (error: string) => error === "transient" }
      const terminal = flaky(5, () => "terminal")
      expect(yield* Effect.either(terminal.effect.pipe(retryOnFailure(options)))).toEqual(Either.left("terminal"))
      expect(terminal.runs()).toBe(1)
      const mixed = flaky(5, (attempt) => (attempt < 3 ? "transient" : "terminal"))
      expect(yield* Effect.either(mixed.effect.pipe(retryOnFailure(options)))).toEqual(Either.left("terminal"))
      expect(mixed.runs()).toBe(3)
    })
  )
})
