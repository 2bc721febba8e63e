import { Effect } from "effect"
import { vi } from "vitest"

/**
 * Runs `body` with the wall and monotonic clocks (`Date.now`, `performance.now`) set by hand
 * through `clocks` (ms), and restores both after it: a test steps one without the other.
 */
export const withHandClocks = <A, E, R>(body: (clocks: { wall: number; monotonic: number }) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const clocks = { wall: 1_800_000_000_000, monotonic: 5_000 }
    const wall = vi.spyOn(Date, "now").mockImplementation(() => clocks.wall)
    const monotonic = vi.spyOn(performance, "now").mockImplementation(() => clocks.monotonic)
    return Effect.ensuring(body(clocks), Effect.sync(() => (wall.mockRestore(), monotonic.mockRestore())))
  })
