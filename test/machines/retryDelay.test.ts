import { describe, expect, it } from "vitest"
import { MAX_RETRY_DELAY_MS, retryDelayMs } from "../../machines/agent/retryDelay.ts"

describe("retryDelayMs", () => {
  it("waits retryBaseMs after the first failure, then doubles", () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 2_000))).toEqual([2_000, 4_000, 8_000, 16_000])
  })

  it("caps the wait at 60 s", () => {
    expect(MAX_RETRY_DELAY_MS).toBe(60_000)
    expect(retryDelayMs(6, 2_000)).toBe(60_000)
    expect(retryDelayMs(40, 2_000)).toBe(60_000)
  })

  it("never waits less than the gateway's retryAfterMs", () => {
    expect(retryDelayMs(1, 2_000, 5_000)).toBe(5_000)
    expect(retryDelayMs(1, 2_000, 500)).toBe(2_000)
    expect(retryDelayMs(10, 2_000, 90_000)).toBe(90_000)
  })
})
