import { Effect, Exit, FiberMap, type Scope } from "effect"
import type { SyncJobRow } from "../store/SyncJobRepo.ts"
import type { SyncJobFeed } from "./SyncJobFeed.ts"

/** Why a feed ends without a result: the run was interrupted here (its gateway moved, or the service stops). */
const STOPPED_INTERRUPTED = "the job's run stopped on this instance (its gateway moved to another runner, or the service is stopping); it resumes on its gateway's owner"
/** Why a feed ends without a result: the run ended without one (the job gone, or its result not recorded). */
const STOPPED_UNFINISHED = "the job's run ended without a result here; read the job for its state"

/**
 * The runs of the template-sync jobs on this runner (docs/architecture.md §9.2): `launch` forks a
 * job's run (`run`, given its feed from `makeFeed`) unless it already runs here, and keeps its feed
 * in `feeds` and its gateway in `gatewayOf` until the run ends. A start and an adoption racing for
 * the same job launch it once: `feeds` decides, checked and set with no yield in between (the
 * feed's creation may yield), so the launch that registers the feed is the one that forks the
 * run and no feed is registered that no run finishes. A run still in `runs` past its end (its feed
 * gone) has done its work: a new launch replaces it. A launch interrupted once its feed is made
 * still registers and forks (the run interruptible). A run that ends without finishing its feed
 * (interrupted, or the job gone) ends it with `stopped`, so no client's event stream stays open.
 * Needs the scope the runs live in.
 */
export const makeSyncJobLaunches = (options: {
  readonly makeFeed: (job: SyncJobRow) => Effect.Effect<SyncJobFeed>
  readonly run: (jobId: string, feed: SyncJobFeed) => Effect.Effect<void>
}): Effect.Effect<
  {
    readonly runs: FiberMap.FiberMap<string>
    readonly feeds: Map<string, SyncJobFeed>
    readonly gatewayOf: Map<string, string>
    readonly launch: (job: SyncJobRow) => Effect.Effect<void>
  },
  never,
  Scope.Scope
> =>
  Effect.map(FiberMap.make<string>(), (runs) => {
    const feeds = new Map<string, SyncJobFeed>()
    const gatewayOf = new Map<string, string>()
    const launch = (job: SyncJobRow) =>
      Effect.gen(function* () {
        if (feeds.has(job.id)) return
        const feed = yield* options.makeFeed(job)
        // Registered and forked at once: a launch interrupted (a start whose client went away)
        // never leaves a feed without its run. The run itself stays interruptible.
        yield* Effect.uninterruptible(
          Effect.suspend(() => {
            if (feeds.has(job.id)) return Effect.void
            feeds.set(job.id, feed)
            gatewayOf.set(job.id, job.gatewayId)
            const run = Effect.interruptible(options.run(job.id, feed)).pipe(
              // A run that ends without `done` (interrupted: its gateway moved, or the service stops;
              // or the job was gone) still ends its feed's clients' streams.
              Effect.onExit((exit) => feed.stop(Exit.isInterrupted(exit) ? STOPPED_INTERRUPTED : STOPPED_UNFINISHED)),
              Effect.ensuring(Effect.sync(() => feeds.get(job.id) === feed && (feeds.delete(job.id), gatewayOf.delete(job.id))))
            )
            return FiberMap.run(runs, job.id, run)
          })
        )
      })
    return { runs, feeds, gatewayOf, launch }
  })
