import { randomUUID } from "node:crypto"
import { Chunk, Deferred, Effect, Fiber, FiberMap, Option, Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { SyncJobRow } from "../../src/store/SyncJobRepo.ts"
import { makeSyncJobFeed, type SyncJobEvent, type SyncJobFeed } from "../../src/sync/SyncJobFeed.ts"
import { syncJobReport } from "../../src/sync/syncJobReport.ts"
import { makeSyncJobLaunches } from "../../src/sync/syncJobLaunches.ts"
import { queuedJob } from "./memorySyncJobRepo.ts"

const queued = (): SyncJobRow =>
  queuedJob({
    id: randomUUID(),
    gatewayId: randomUUID(),
    options: { includeMain: false, leadOnly: false, resetSessions: false, rotateTokens: false, forceBootstrap: false, overwrite: false, boardId: null }
  })

describe("template-sync job launches (docs/architecture.md §9.2)", () => {
  it("a start and an adoption launching one job at once fork one run, and the feed the events read is the one that run finishes", async () => {
    const job = queued()
    const outcome = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const release = yield* Deferred.make<void>()
          const fed: Array<SyncJobFeed> = []
          const launches = yield* makeSyncJobLaunches({
            // The feed's creation yields, as any effect may: both launches are past their first check before either registers.
            makeFeed: (row) => Effect.zipLeft(makeSyncJobFeed(row), Effect.yieldNow()),
            run: (_jobId, feed) =>
              Effect.sync(() => fed.push(feed)).pipe(
                Effect.zipRight(Deferred.await(release)),
                Effect.zipRight(feed.finished(syncJobReport({ ...job, status: "done", finishedAt: new Date() }, [])))
              )
          })
          yield* Effect.all([launches.launch(job), launches.launch(job)], { concurrency: "unbounded", discard: true })
          yield* Effect.yieldNow()
          const registered = launches.feeds.get(job.id)!
          const events = yield* Effect.fork(Stream.runCollect(registered.events))
          yield* Effect.yieldNow()
          yield* Deferred.succeed(release, undefined)
          const collected = yield* events.await.pipe(Effect.timeout("2 seconds"), Effect.option)
          return { runs: fed.length, sameFeed: fed[0] === registered, ended: collected._tag === "Some", left: launches.feeds.size }
        })
      )
    )
    expect(outcome).toEqual({ runs: 1, sameFeed: true, ended: true, left: 0 })
  })

  it("a run that ends without finishing its feed (interrupted as its gateway moved, or the job gone) ends its followers' streams with stopped", async () => {
    const outcome = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const moved = queued()
          const gone = queued()
          const launches = yield* makeSyncJobLaunches({
            makeFeed: makeSyncJobFeed,
            run: (jobId) => (jobId === moved.id ? Effect.never : Effect.void)
          })
          yield* launches.launch(moved)
          const movedEvents = yield* Effect.fork(Stream.runCollect(launches.feeds.get(moved.id)!.events))
          const goneFeed = yield* makeSyncJobFeed(gone)
          const goneEvents = yield* Effect.fork(Stream.runCollect(goneFeed.events))
          yield* Effect.yieldNow()
          // The gateway moved to another runner: its run is removed (SyncJobs' adoption pass).
          yield* FiberMap.remove(launches.runs, moved.id)
          const launchesGone = yield* makeSyncJobLaunches({ makeFeed: () => Effect.succeed(goneFeed), run: () => Effect.void })
          yield* launchesGone.launch(gone)
          const last = (events: Fiber.RuntimeFiber<Chunk.Chunk<SyncJobEvent>>) =>
            Effect.map(Effect.timeout(Fiber.join(events), "2 seconds"), (chunk) => Chunk.toArray(chunk).at(-1)?.type)
          return { moved: yield* Effect.option(last(movedEvents)), gone: yield* Effect.option(last(goneEvents)), left: launches.feeds.size }
        })
      )
    )
    expect(outcome).toEqual({ moved: Option.some("stopped"), gone: Option.some("stopped"), left: 0 })
  })
})
