import { it } from "@effect/vitest"
import { SqlError } from "@effect/sql/SqlError"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { describe, expect } from "vitest"
import { FleetSummaries, FleetSummariesLive } from "../../src/fleet/FleetSummaries.ts"
import { AgentRepo, type AgentRepoShape } from "../../src/store/AgentRepo.ts"
import { foldFleetSummary } from "../../src/store/fleetQueries.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

/**
 * A repository whose summary reads are counted and held until `release` (each read answers the
 * total it was started with: its sequence number), and which fails while `failing` is set.
 */
const makeRepo = Effect.gen(function* () {
  const state = { reads: 0, failing: false, release: yield* Deferred.make<void>() }
  const repo = dieOnUnstubbed<AgentRepoShape>("AgentRepo", {
    summary: (stuckAfterS) =>
      Effect.gen(function* () {
        const read = ++state.reads
        yield* Deferred.await(state.release)
        if (state.failing) return yield* new SqlError({ cause: "down", message: "database unavailable" })
        return foldFleetSummary([{ gatewayId: "g", boardId: null, statePath: "online", offlineReason: null, count: read }], undefined, stuckAfterS)
      })
  })
  return { state, layer: FleetSummariesLive.pipe(Layer.provide(Layer.succeed(AgentRepo, repo))) }
})

describe("FleetSummaries (the summary, coalesced)", () => {
  it.effect("requests during a read share it; a request after it ended reads again", () =>
    Effect.gen(function* () {
      const { state, layer } = yield* makeRepo
      yield* Effect.gen(function* () {
        const fleet = yield* FleetSummaries
        const waiting = yield* Effect.forkAll([fleet.summary(900), fleet.summary(900), fleet.summary(900)])
        // Another threshold is another read.
        const other = yield* Effect.fork(fleet.summary(30))
        yield* Effect.yieldNow()
        yield* Deferred.succeed(state.release, undefined)
        const shared = yield* Fiber.join(waiting)
        expect(shared.map((summary) => summary.total)).toEqual([1, 1, 1])
        expect((yield* Fiber.join(other)).problems.stuckAfterS).toBe(30)
        expect(state.reads).toBe(2)
        // Nothing is kept: the next request reads the fleet as it is now.
        expect((yield* fleet.summary(900)).total).toBe(3)
        expect(state.reads).toBe(3)
      }).pipe(Effect.provide(layer))
    }))

  it.effect("a failed read fails the requests that shared it, and is not kept", () =>
    Effect.gen(function* () {
      const { state, layer } = yield* makeRepo
      yield* Effect.gen(function* () {
        const fleet = yield* FleetSummaries
        state.failing = true
        yield* Deferred.succeed(state.release, undefined)
        const failed = yield* Effect.flip(fleet.summary(900))
        expect(failed._tag).toBe("SqlError")
        state.failing = false
        expect((yield* fleet.summary(900)).total).toBe(2)
      }).pipe(Effect.provide(layer))
    }))
})
