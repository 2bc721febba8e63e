import { Clock, Duration, Effect, Schedule } from "effect"
import type { GatewayError } from "./GatewayError.ts"

/**
 * Named retry schedules, applied with `Effect.retry({ schedule, while: isTransient })`.
 * Each is exponential, jittered, capped per delay and bounded in total time, so a hung or
 * restarting gateway ends in a visible machine state rather than a stuck one.
 */

/** Honour the gateway's `retryAfterMs` when it is longer than our own next delay. */
const retryAfter = Schedule.identity<GatewayError>().pipe(
  Schedule.addDelay((error) =>
    "retryAfterMs" in error && typeof error.retryAfterMs === "number" ? Duration.millis(error.retryAfterMs) : Duration.zero
  )
)

/**
 * One gateway call inside a lifecycle step: 250 ms → 5 s, or the gateway's `retryAfterMs`
 * when longer; no new attempt starts after 30 s of retrying (the calls' own time comes on top).
 */
export const gatewayTransient = Schedule.exponential("250 millis", 2).pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.jittered,
  Schedule.intersect(retryAfter),
  Schedule.upTo("30 seconds")
)

/**
 * One gateway call of an operator query (docs/operations.md §6.7): 100 ms → 1 s, jittered, or the
 * gateway's `retryAfterMs` when longer; a retry is made only when its wait ends at least
 * `OPERATOR_ATTEMPT_MIN_MS` before `deadline` (epoch ms on the Effect `Clock`), so the answer keeps its bound and, when time runs out, carries
 * the last refusal rather than a timeout.
 */
export const operatorQuery = (deadline: number) =>
  Schedule.exponential("100 millis", 2).pipe(
    Schedule.union(Schedule.spaced("1 second")),
    Schedule.jittered,
    Schedule.intersect(retryAfter),
    Schedule.delays,
    Schedule.checkEffect((_, delay) => Effect.map(Clock.currentTimeMillis, (now) => now + Duration.toMillis(delay) + OPERATOR_ATTEMPT_MIN_MS <= deadline))
  )

/** The least time an operator query's retry must have left before its deadline, ms: a shorter one could only time out. */
export const OPERATOR_ATTEMPT_MIN_MS = 250

/**
 * Waiting for an agent that `agents.create` acknowledged ~1.5 s before it is usable
 * (docs/gateway-protocol.md §0.6): 200 ms → 1 s, at most 15 s.
 */
export const agentReadiness = Schedule.exponential("200 millis", 1.5).pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.upTo("15 seconds")
)

/** Background reconnects of a gateway socket: 250 ms → 30 s, jittered, unbounded. */
export const reconnectDelayMs = (attempt: number): number => {
  const base = Math.min(30_000, 250 * 2 ** Math.min(attempt, 10))
  return Math.round(base / 2 + Math.random() * (base / 2))
}

/** A stale config `baseHash` (any `agents.create` changes the hash): re-read and re-apply, 8 times at most. */
export const configConflict = {
  schedule: Schedule.jittered(Schedule.spaced("100 millis")),
  times: 8,
  while: (error: GatewayError) => error._tag === "GatewayRpcError" && error.kind === "config_conflict"
}

/**
 * `Effect.retry(self, options)` for a hot path that nearly always succeeds: the same attempts and
 * delays (the schedule starts at the first failure either way), but the retry's schedule driver
 * is built only once an attempt has failed with an error `options.while` retries, not on every
 * call (it costs more than the call's own bookkeeping). Without `while`, every error is retried.
 */
export const retryOnFailure =
  <E>(options: { readonly schedule: Schedule.Schedule<unknown, E>; readonly while?: (error: E) => boolean; readonly times?: number }) =>
  <A, E2 extends E, R>(self: Effect.Effect<A, E2, R>): Effect.Effect<A, E2, R> =>
    Effect.catchAll(self, (first) => {
      if (options.while !== undefined && !options.while(first)) return Effect.fail(first)
      // The retry replays the first failure (no new attempt) so its schedule decides on it, as `Effect.retry` would have.
      let replayed = false
      const again = Effect.suspend(() => (replayed ? self : ((replayed = true), Effect.fail(first))))
      return Effect.retry(again, options)
    })
