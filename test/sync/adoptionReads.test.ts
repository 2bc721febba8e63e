import { it } from "@effect/vitest"
import { Effect } from "effect"
import { expect } from "vitest"
import { withHandClocks } from "../support/handClocks.ts"
import { ADOPT_READ_EVERY_MS, makeAdoptionReads } from "../../src/sync/adoptionReads.ts"

/** The adoption's read gate over a manual clock and shard key; `pass` reads when due and counts the reads. */
const fixture = () => {
  const state = { now: 1_000_000, shards: "default:1-300", reads: 0 }
  const reads = makeAdoptionReads(() => state.shards, () => state.now)
  const read = reads.read(Effect.sync(() => void (state.reads += 1)))
  /** Runs `count` passes one second apart. */
  const passes = (count: number) =>
    Effect.gen(function* () {
      for (let i = 0; i < count; i++) {
        if (reads.due()) yield* read
        state.now += 1_000
      }
    })
  return { state, reads, read, passes }
}

it.effect("a settled runner reads the unfinished jobs on its first pass, then once per ADOPT_READ_EVERY_MS, not every second", () =>
  Effect.gen(function* () {
    const { state, passes } = fixture()
    yield* passes((3 * ADOPT_READ_EVERY_MS) / 1_000)
    expect(state.reads).toBe(3)
  })
)

it.effect("a takeover (the set of shards changed) and a nudge each make the next pass read", () =>
  Effect.gen(function* () {
    const { state, reads, passes } = fixture()
    yield* passes(2)
    expect(state.reads).toBe(1)
    state.shards = "default:1-301"
    yield* passes(2)
    expect(state.reads).toBe(2)
    reads.nudge()
    yield* passes(2)
    expect(state.reads).toBe(3)
  })
)

it.effect("a read that a nudge overtook, or that failed, leaves the next pass due", () =>
  Effect.gen(function* () {
    const { state, reads, passes } = fixture()
    // The nudge arrives while the read is in flight: what it announced may have committed after the read's snapshot.
    yield* reads.read(Effect.sync(() => reads.nudge()))
    expect(reads.due()).toBe(true)
    yield* passes(1)
    expect(state.reads).toBe(1)
    expect(reads.due()).toBe(false)
    reads.nudge()
    yield* Effect.ignore(reads.read(Effect.fail("database down")))
    expect(reads.due()).toBe(true)
  })
)

it.effect("by default its period is measured on the monotonic clock: a step of the wall clock neither stalls nor hastens a read", () =>
  withHandClocks((clocks) =>
    Effect.gen(function* () {
      const reads = makeAdoptionReads(() => "default:1-300")
      yield* reads.read(Effect.void)
      // The wall clock steps back an hour, then forward a day: no read is due before its period.
      clocks.wall -= 3_600_000
      expect(reads.due()).toBe(false)
      clocks.wall += 86_400_000
      expect(reads.due()).toBe(false)
      clocks.monotonic += ADOPT_READ_EVERY_MS
      expect(reads.due()).toBe(true)
    })
  )
)
