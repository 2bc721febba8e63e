import { it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, TestClock } from "effect"
import { describe, expect } from "vitest"
import { GatewayConnectionError, GatewayRpcError, GatewayTimeoutError, type GatewayError } from "../../src/gateway/GatewayError.ts"
import { startBudget, withinBudget } from "../../src/fleet/QueryBudget.ts"

const BUDGET_MS = 10_000

const closing = (fields: Partial<{ retryAfterMs: number }> = {}) =>
  new GatewayRpcError({ method: "sessions.list", code: "UNAVAILABLE", kind: "unavailable", message: "Agent database resources are closing", retryable: true, ...fields })

/**
 * Runs `withinBudget` over an attempt that answers `answers[i]` on its i-th try (the last one
 * from then on), on the TestClock; returns the exit and every attempt's start (ms) and timeout.
 */
const run = (answers: ReadonlyArray<(timeoutMs: number) => Effect.Effect<string, GatewayError>>) =>
  Effect.gen(function* () {
    const attempts: Array<{ at: number; timeoutMs: number }> = []
    const budget = yield* startBudget(BUDGET_MS)
    const attempt = (timeoutMs: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        const answer = answers[Math.min(attempts.length, answers.length - 1)]!
        attempts.push({ at, timeoutMs })
        return answer(timeoutMs)
      })
    const fiber = yield* Effect.fork(withinBudget(budget, "sessions.list", attempt))
    yield* TestClock.adjust(BUDGET_MS * 2)
    return { exit: yield* Fiber.await(fiber), attempts, deadline: budget.deadline }
  })

const refuse = (error: GatewayError) => () => Effect.fail(error)
const answer = () => Effect.succeed("ok")

describe("withinBudget (an operator query's gateway call, docs/operations.md §6.7)", () => {
  it.effect("asks again after a transient refusal, each attempt timed by what is left of the budget", () =>
    Effect.gen(function* () {
      const { exit, attempts, deadline } = yield* run([refuse(closing()), refuse(closing()), answer])
      expect(exit).toEqual(Exit.succeed("ok"))
      expect(attempts).toHaveLength(3)
      for (const { at, timeoutMs } of attempts) expect(timeoutMs).toBe(deadline - at)
      expect(attempts[1]!.at).toBeGreaterThan(attempts[0]!.at)
    })
  )

  it.effect("waits the gateway's retryAfterMs when it is longer than its own delay", () =>
    Effect.gen(function* () {
      const { exit, attempts } = yield* run([refuse(closing({ retryAfterMs: 3_000 })), answer])
      expect(exit).toEqual(Exit.succeed("ok"))
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(3_000)
    })
  )

  it.effect("answers at once for a gateway whose socket cannot be opened (down), but rides out a restart (a lost socket, then refused connections)", () =>
    Effect.gen(function* () {
      const down = new GatewayConnectionError({ reason: "unreachable", message: "connect ECONNREFUSED 127.0.0.1:1", retryable: true })
      const refused = yield* run([refuse(down), answer])
      expect(refused.exit).toEqual(Exit.fail(down))
      expect(refused.attempts).toHaveLength(1)
      const lost = new GatewayConnectionError({ reason: "closed", message: "socket closed (1012)", closeCode: 1012, retryable: true })
      // A restart: the socket closes, then connections are refused while the gateway comes back.
      const restarted = yield* run([refuse(lost), refuse(down), refuse(down), answer])
      expect(restarted.exit).toEqual(Exit.succeed("ok"))
      expect(restarted.attempts).toHaveLength(4)
    })
  )

  it.effect("makes no retry that would start too close to the deadline to be answered: the last refusal stands", () =>
    Effect.gen(function* () {
      // The gateway asks for a wait that ends 100 ms before the deadline.
      const { exit, attempts } = yield* run([refuse(closing({ retryAfterMs: BUDGET_MS - 100 })), answer])
      expect(exit).toEqual(Exit.fail(closing({ retryAfterMs: BUDGET_MS - 100 })))
      expect(attempts).toHaveLength(1)
    })
  )

  it.effect("ends with the last refusal, before the deadline, when the refusal lasts", () =>
    Effect.gen(function* () {
      const { exit, attempts, deadline } = yield* run([refuse(closing())])
      expect(exit).toEqual(Exit.fail(closing()))
      expect(attempts.length).toBeGreaterThan(3)
      expect(attempts.at(-1)!.at).toBeLessThan(deadline)
    })
  )

  it.effect("does not ask again after a refusal that is not transient", () =>
    Effect.gen(function* () {
      const invalid = new GatewayRpcError({ method: "sessions.list", code: "INVALID_REQUEST", kind: "invalid_request", message: "invalid params", retryable: false })
      const { exit, attempts } = yield* run([refuse(invalid)])
      expect(exit).toEqual(Exit.fail(invalid))
      expect(attempts).toHaveLength(1)
    })
  )

  it.effect("reports a call the deadline cut short as a timeout of the whole budget, and stops", () =>
    Effect.gen(function* () {
      const hang = (timeoutMs: number) => Effect.zipRight(Effect.sleep(timeoutMs), Effect.fail(new GatewayTimeoutError({ method: "sessions.list", timeoutMs })))
      const { exit, attempts } = yield* run([refuse(closing()), hang])
      expect(exit).toEqual(Exit.fail(new GatewayTimeoutError({ method: "sessions.list", timeoutMs: BUDGET_MS })))
      expect(attempts).toHaveLength(2)
    })
  )
})
