import { Duration, Schedule } from "effect"

/** The gateway's `retryAfterMs`, when an error carries one, on top of our own next delay. */
const retryAfter = Schedule.identity<unknown>().pipe(
  Schedule.addDelay((error) =>
    typeof error === "object" && error !== null && "retryAfterMs" in error && typeof error.retryAfterMs === "number"
      ? Duration.millis(error.retryAfterMs)
      : Duration.zero
  )
)

/**
 * Retries of one ledger message's `chat.send` on transient gateway errors: 500 ms → 5 s,
 * jittered, or the gateway's `retryAfterMs` when longer; no new attempt starts after 45 s
 * (Mission Control's coordination retry window, docs/operations.md §6.11). Each attempt is counted
 * on the message; the same idempotency key makes a retry of an accepted send a no-op.
 * (A sibling of the schedules in src/gateway/retryPolicies.ts; it may move there.)
 */
export const messageDelivery = Schedule.exponential("500 millis", 2).pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.jittered,
  Schedule.intersect(retryAfter),
  Schedule.upTo("45 seconds")
)

/** While actors are still being restored after a start, ask again every second, for at most 2 min. */
export const actorsRestoring = Schedule.spaced("1 second").pipe(Schedule.upTo("2 minutes"))
