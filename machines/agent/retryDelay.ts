/** The longest wait between two attempts of a lifecycle step, ms. */
export const MAX_RETRY_DELAY_MS = 60_000

/**
 * How long to wait after failed attempt `attempt` (1 for the first failure) before the next:
 * `baseMs`, doubling per attempt, capped at `MAX_RETRY_DELAY_MS`, and never shorter than the
 * gateway's `retryAfterMs`. All in ms. Pure.
 */
export const retryDelayMs = (attempt: number, baseMs: number, retryAfterMs?: number): number =>
  Math.max(retryAfterMs ?? 0, Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1)))
