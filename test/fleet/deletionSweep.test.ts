import { it } from "@effect/vitest"
import { Effect } from "effect"
import { expect } from "vitest"
import { withHandClocks } from "../support/handClocks.ts"
import { IDLE_READ_EVERY_MS, makeDeletionSweep, SWEEP_EVERY_MS } from "../../src/fleet/deletionSweep.ts"

/** A sweep over fakes: a manual clock, a shard count and stored deleting ids; counts the reads. */
const fixture = () => {
  const state = { now: 1_000_000, shards: "default:1-300", deleting: [] as Array<string>, owned: new Set<string>(), reads: 0, reaped: [] as Array<string>, ready: true }
  const sweep = makeDeletionSweep({
    ready: Effect.sync(() => state.ready),
    deleting: Effect.sync(() => {
      state.reads += 1
      return [...state.deleting]
    }),
    owns: (id) => state.owned.has(id),
    ownedShardsKey: () => state.shards,
    reap: (id) => Effect.sync(() => void state.reaped.push(id)),
    now: () => state.now
  })
  /** Runs `count` passes, SWEEP_EVERY_MS apart. */
  const passes = (count: number) =>
    Effect.gen(function* () {
      for (let i = 0; i < count; i++) {
        yield* sweep.pass
        state.now += SWEEP_EVERY_MS
      }
    })
  return { state, sweep, passes }
}

it.effect("a runner that owns no deleting gateway reads them once per IDLE_READ_EVERY_MS, not every pass", () =>
  Effect.gen(function* () {
    const { state, passes } = fixture()
    const perIdleRead = IDLE_READ_EVERY_MS / SWEEP_EVERY_MS
    yield* passes(perIdleRead * 3)
    expect(state.reads).toBe(3)
    expect(state.reaped).toEqual([])
  })
)

it.effect("a takeover (the set of shards changed) reads at once, and an owned deleting gateway is swept every pass until gone", () =>
  Effect.gen(function* () {
    const { state, passes } = fixture()
    yield* passes(1)
    expect(state.reads).toBe(1)
    // Another runner died with a deleting gateway: this one takes its shards.
    state.deleting = ["gone-soon", "not-mine"]
    state.owned.add("gone-soon")
    state.shards = "default:1-301"
    yield* passes(1)
    expect(state.reads).toBe(2)
    expect(state.reaped).toEqual(["gone-soon"])
    yield* passes(2)
    expect(state.reaped).toEqual(["gone-soon", "gone-soon", "gone-soon"])
    // Its row is gone: the sweep goes quiet again.
    state.deleting = ["not-mine"]
    yield* passes(5)
    expect(state.reads).toBe(5)
    expect(state.reaped).toHaveLength(3)
  })
)

it.effect("a delete asked here (nudge) is swept on the next pass; a restoring system is not swept", () =>
  Effect.gen(function* () {
    const { state, sweep, passes } = fixture()
    yield* passes(1)
    state.deleting = ["asked-here"]
    state.owned.add("asked-here")
    yield* passes(1)
    expect(state.reaped).toEqual([])
    sweep.nudge()
    state.ready = false
    yield* passes(1)
    expect(state.reads).toBe(1)
    state.ready = true
    yield* passes(1)
    expect(state.reaped).toEqual(["asked-here"])
  })
)

it.effect("a failed read or reap is logged and the next pass tries again", () =>
  Effect.gen(function* () {
    let reads = 0
    const sweep = makeDeletionSweep({
      ready: Effect.succeed(true),
      deleting: Effect.suspend(() => (++reads === 1 ? Effect.fail("db down") : Effect.succeed(["g"]))),
      owns: () => true,
      ownedShardsKey: () => "default:1",
      reap: () => Effect.fail({ _tag: "AgentsRestoring" }),
      now: () => 0
    })
    yield* sweep.pass
    yield* sweep.pass
    yield* sweep.pass
    expect(reads).toBe(3)
  })
)

it.effect("a delete asked here while a pass was reading (its nudge overtook the read) is read again on the next pass", () =>
  Effect.gen(function* () {
    let reads = 0
    const deleting: Array<string> = []
    const sweep = makeDeletionSweep({
      ready: Effect.succeed(true),
      deleting: Effect.sync(() => {
        reads += 1
        const answer = [...deleting]
        // The delete commits and nudges after this read took its rows.
        if (reads === 1) {
          deleting.push("asked-here")
          sweep.nudge()
        }
        return answer
      }),
      owns: () => true,
      ownedShardsKey: () => "default:1",
      reap: () => Effect.void,
      now: () => 0
    })
    yield* sweep.pass
    yield* sweep.pass
    expect(reads).toBe(2)
  })
)

it.effect("by default its idle period is measured on the monotonic clock: a step of the wall clock neither stalls nor hastens a read", () =>
  withHandClocks((clocks) =>
    Effect.gen(function* () {
      let reads = 0
      const sweep = makeDeletionSweep({
        ready: Effect.succeed(true),
        deleting: Effect.sync(() => (reads++, [])),
        owns: () => false,
        ownedShardsKey: () => "default:1-300",
        reap: () => Effect.void
      })
      yield* sweep.pass
      clocks.wall -= 3_600_000
      clocks.monotonic += SWEEP_EVERY_MS
      yield* sweep.pass
      clocks.wall += 86_400_000
      clocks.monotonic += SWEEP_EVERY_MS
      yield* sweep.pass
      expect(reads).toBe(1)
      clocks.monotonic += IDLE_READ_EVERY_MS
      yield* sweep.pass
      expect(reads).toBe(2)
    })
  )
)
