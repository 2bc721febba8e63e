import { Duration, Schedule } from "effect"

/**
 * Attempts a sync job makes at one agent whose update ended in `failed` with a transient error
 * (docs/operations.md §6.8). Each attempt is itself retried by the agent machine up to its `maxAttempts`.
 */
export const SYNC_AGENT_ATTEMPTS = 2

const MAX_AGENT_RETRY_DELAY = Duration.seconds(30)

/**
 * Delay before a job's next attempt at an agent: exponential from `baseMs` (the lifecycle's
 * `retryBaseMs`), jittered, capped at 30 s. How many attempts: `SYNC_AGENT_ATTEMPTS`, applied
 * with a `while`.
 */
export const syncAgentRetry = (baseMs: number) =>
  Schedule.exponential(Duration.millis(baseMs)).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((delay) => Duration.min(delay, MAX_AGENT_RETRY_DELAY))
  )

/**
 * Restarts of a job run that failed on the database (its state is stored, so a restart resumes
 * it): 1 s doubling, jittered, 6 times (about a minute), then the job is marked failed.
 */
export const syncJobRestart = Schedule.exponential(Duration.seconds(1)).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(6)))
