import type { SqlError } from "@effect/sql/SqlError"
import { Context, Deferred, Effect, FiberId, Layer } from "effect"
import { AgentRepo } from "../store/AgentRepo.ts"
import type { FleetSummary } from "../store/fleetQueries.ts"

export interface FleetSummariesShape {
  /**
   * The fleet summary (`AgentRepo.summary`) for `stuckAfterS` (seconds). Requests that arrive
   * while the same summary is being read share that read's answer; one that arrives after it
   * ended reads again, so no answer is older than the read in flight when it was asked
   * (docs/operations.md §3.6). Fails with SqlError when the read fails (never kept).
   */
  readonly summary: (stuckAfterS: number) => Effect.Effect<FleetSummary, SqlError>
}

/**
 * `GET /api/v1/fleet/summary`, coalesced: the summary counts every live agent (O(agents)), so
 * many pages that open or reconnect at once (a restart, many operators) cost one read, not one
 * each. Nothing is kept once the read ends: the pages stay current from the push stream.
 */
export class FleetSummaries extends Context.Tag("switchyard/FleetSummaries")<FleetSummaries, FleetSummariesShape>() {}

export const FleetSummariesLive = Layer.effect(
  FleetSummaries,
  Effect.gen(function* () {
    const repo = yield* AgentRepo
    /** The read running for each threshold. */
    const running = new Map<number, Deferred.Deferred<FleetSummary, SqlError>>()
    return FleetSummaries.of({
      summary: (stuckAfterS) =>
        Effect.suspend(() => {
          const shared = running.get(stuckAfterS)
          if (shared !== undefined) return Deferred.await(shared)
          const read = Deferred.unsafeMake<FleetSummary, SqlError>(FiberId.none)
          running.set(stuckAfterS, read)
          // The read runs on its own fiber: a request that goes away leaves it to the others.
          const publish = repo.summary(stuckAfterS).pipe(
            Effect.exit,
            Effect.flatMap((exit) => Effect.zipRight(Effect.sync(() => running.delete(stuckAfterS)), Deferred.done(read, exit)))
          )
          return Effect.zipRight(Effect.forkDaemon(publish), Deferred.await(read))
        })
    })
  })
)
