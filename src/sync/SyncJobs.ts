import { randomUUID } from "node:crypto"
import { Sharding } from "@effect/cluster"
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Context, Effect, Either, FiberMap, Layer, Option, Schedule, Stream } from "effect"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { LocalAgents } from "../agents/LocalAgents.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { nudgeOwner } from "../cluster/gatewayOnOwner.ts"
import { GatewayOwnership } from "../cluster/GatewayOwnership.ts"
import { OwnerNudges } from "../cluster/OwnerNudges.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"
import { SyncJobRepo, type SyncJobOptions, type SyncJobRow } from "../store/SyncJobRepo.ts"
import { runSyncJob } from "./runSyncJob.ts"
import { GatewayNotFound } from "../agents/GatewayRowErrors.ts"
import { SyncBoardNotFound, SyncGatewayDeleting, SyncJobActive, SyncJobNotFound } from "./SyncJobErrors.ts"
import { makeSyncJobFeed, storedEvents, type SyncJobEvent, type SyncJobFeed } from "./SyncJobFeed.ts"
import { syncJobReport, type SyncJobReport } from "./syncJobReport.ts"
import { syncJobRestart } from "./syncPolicies.ts"
import { makeAdoptionReads } from "./adoptionReads.ts"
import { makeSyncJobLaunches } from "./syncJobLaunches.ts"

export { SyncBoardNotFound, SyncGatewayDeleting, SyncJobActive, SyncJobNotFound }

export interface SyncJobsShape {
  /**
   * Queues a template sync of the gateway's agents and starts it in the background; answers at
   * once with the queued job. Errors: GatewayNotFound, SyncGatewayDeleting, SyncBoardNotFound
   * (`boardId` not on that gateway), SyncJobActive (the gateway's queued or running job), SqlError.
   */
  readonly start: (
    gatewayId: string,
    options: SyncJobOptions
  ) => Effect.Effect<SyncJobRow, GatewayNotFound | SyncGatewayDeleting | SyncBoardNotFound | SyncJobActive | SqlError>
  /** The job's stored result (`GatewayTemplatesSyncResult` plus progress, docs/operations.md §6.8). Errors: SyncJobNotFound, SqlError. */
  readonly report: (gatewayId: string, jobId: string) => Effect.Effect<SyncJobReport, SyncJobNotFound | SqlError>
  /**
   * The job's events: its current progress, one event per agent result, then `done` with the
   * result, then the end. A running job's come from its in-process feed (no database reads
   * per client); a finished job's from one read. Errors: SyncJobNotFound, SqlError.
   */
  readonly events: (gatewayId: string, jobId: string) => Effect.Effect<Stream.Stream<SyncJobEvent>, SyncJobNotFound | SqlError>
}

/** Template sync as background jobs (docs/architecture.md §9.2): persisted, resumed after a restart. */
export class SyncJobs extends Context.Tag("switchyard/SyncJobs")<SyncJobs, SyncJobsShape>() {}

/** How often the adoption looks at the runs and the ownership (a takeover resumes jobs within this); it reads the jobs only when due (`makeAdoptionReads`). */
const ADOPT_EVERY = "1 second"
/** A job waiting this long (ms) for its gateway to be hosted here is logged as a warning, once. */
const WAIT_WARN_MS = 3 * 60_000

/**
 * Runs the queued or running jobs of the gateways this runner owns: those found at start-up or
 * after a takeover, and every new one, each once its gateway is hosted here with its agent
 * actors restored (till then it waits in memory and every adoption pass looks again, docs/architecture.md §9.2); a job
 * created through another runner starts on its gateway's owner within a second (it nudges the
 * owner, `nudgeOwner`; a lost nudge is made good by a read every 30 s). Runs live in the layer's
 * scope: shutdown interrupts them and the next start resumes them.
 */
export const SyncJobsLive = Layer.scoped(
  SyncJobs,
  Effect.gen(function* () {
    const repo = yield* SyncJobRepo
    const ownership = yield* GatewayOwnership
    const local = yield* LocalAgents
    const sharding = yield* Sharding.Sharding
    const nudges = yield* OwnerNudges
    const scope = yield* Effect.scope
    const gateways = yield* GatewayRepo
    const boards = yield* BoardRepo
    const services = yield* Effect.context<SyncJobRepo | GatewayRepo | AgentRepo | AgentSystem | AppConfig>()
    // A run that fails on the database restarts (it resumes); after that the job is marked failed.
    const failJob = (jobId: string, feed: SyncJobFeed, cause: Cause.Cause<unknown>) =>
      Effect.gen(function* () {
        yield* Effect.logError(`template sync job ${jobId} failed`, cause)
        yield* repo.finish(jobId, "failed", "the job stopped on an internal error; see the service log")
        const job = yield* repo.get(jobId)
        if (Option.isSome(job)) yield* feed.finished(syncJobReport(job.value, yield* repo.agents(jobId)))
      }).pipe(
        Effect.catchAllCause((again) => Effect.logError(`template sync job ${jobId}: could not record its failure; it resumes at the next start`, again))
      )

    const { runs, feeds, gatewayOf, launch } = yield* makeSyncJobLaunches({
      makeFeed: makeSyncJobFeed,
      run: (jobId, feed) =>
        runSyncJob(jobId, feed).pipe(
          Effect.retry({ schedule: syncJobRestart }),
          Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.void : failJob(jobId, feed, cause))),
          Effect.provide(services)
        )
    })

    const find = (gatewayId: string, jobId: string) =>
      repo.get(jobId).pipe(
        Effect.flatMap((job) =>
          Option.isSome(job) && job.value.gatewayId === gatewayId ? Effect.succeed(job.value) : Effect.fail(new SyncJobNotFound({ gatewayId, jobId }))
        )
      )

    const insert = (gatewayId: string, options: SyncJobOptions): Effect.Effect<SyncJobRow, SqlError> => repo.insert({ id: randomUUID(), gatewayId, options })

    // A concurrent request won the gateway's one active slot: answer with its job. If that job
    // ended in between, the slot is free again: try once more.
    const activeOrRetry = (gatewayId: string, options: SyncJobOptions, error: SqlError): Effect.Effect<SyncJobRow, SqlError | SyncJobActive> =>
      isUniqueViolation(error)
        ? Effect.flatMap(repo.active(gatewayId), (active): Effect.Effect<SyncJobRow, SqlError | SyncJobActive> =>
            Option.isSome(active) ? Effect.fail(new SyncJobActive({ gatewayId, jobId: active.value.id })) : insert(gatewayId, options)
          )
        : Effect.fail(error)

    // Jobs run on the owner of their gateway only (docs/architecture.md "Cluster"): every second
    // this runner stops the runs of gateways it no longer owns (their new owner resumes them), and,
    // when due (its first pass, a takeover, a nudge, or every 30 s: `makeAdoptionReads`), starts
    // the unfinished jobs of the gateways it owns that it does not run yet. No job runs twice in
    // the cluster. A job whose gateway is owned but not hosted yet (its agents still being
    // restored after a start or a takeover) is kept in `waiting` and looked at again on every
    // pass, without a read of the jobs (docs/architecture.md §9.2).
    const reads = makeAdoptionReads(ownership.ownedShardsKey)
    nudges.on("sync", () => Effect.sync(reads.nudge))
    /** Jobs left for their gateway to be hosted here: the row as last read, and since when (ms, `performance.now()`). */
    const waiting = new Map<string, { readonly job: SyncJobRow; readonly since: number; warned: boolean }>()
    /** Whether the last read of the jobs failed (a streak of failures is logged once). */
    let readFailing = false
    const adopt = Effect.gen(function* () {
      for (const [jobId, gatewayId] of [...gatewayOf]) {
        if (ownership.owns(gatewayId) || !(yield* FiberMap.has(runs, jobId))) continue
        yield* FiberMap.remove(runs, jobId)
        yield* Effect.logInfo(`template sync job ${jobId}: its gateway moved to another runner, which resumes it`)
      }
      // A failed read (retried at the next pass) never holds back the jobs already waiting in
      // memory; it is logged once per streak of failures.
      const unfinished = reads.due() ? yield* Effect.either(reads.read(repo.unfinished)) : undefined
      if (unfinished !== undefined && Either.isLeft(unfinished) && !readFailing) {
        readFailing = true
        yield* Effect.logWarning("template sync: could not list unfinished jobs; retried every second, jobs already waiting still start", unfinished.left)
      } else if (unfinished !== undefined && Either.isRight(unfinished)) {
        if (readFailing) yield* Effect.logInfo("template sync: listing unfinished jobs works again")
        readFailing = false
        const read = new Set<string>()
        for (const job of unfinished.right) {
          if (!ownership.owns(job.gatewayId) || (yield* FiberMap.has(runs, job.id))) continue
          read.add(job.id)
          const left = waiting.get(job.id)
          waiting.set(job.id, { job, since: left?.since ?? performance.now(), warned: left?.warned ?? false })
          if (left === undefined && !local.hosts(job.gatewayId)) {
            yield* Effect.logInfo(`template sync job ${job.id}: waiting for gateway ${job.gatewayId} to be hosted here with its agents restored`)
          }
        }
        // A job finished (or deleted) since it was left is dropped with the read that no longer lists it.
        for (const jobId of [...waiting.keys()]) if (!read.has(jobId)) waiting.delete(jobId)
      }
      for (const [jobId, left] of [...waiting]) {
        if (!ownership.owns(left.job.gatewayId) || (yield* FiberMap.has(runs, jobId))) {
          waiting.delete(jobId)
        } else if (local.hosts(left.job.gatewayId)) {
          waiting.delete(jobId)
          yield* launch(left.job)
        } else if (!left.warned && performance.now() - left.since >= WAIT_WARN_MS) {
          left.warned = true
          yield* Effect.logWarning(
            `template sync job ${jobId}: gateway ${left.job.gatewayId} is still not hosted here after ${Math.round(WAIT_WARN_MS / 60_000)} minutes; the job waits for it`
          )
        }
      }
    })
    yield* Effect.forkScoped(Effect.repeat(adopt, Schedule.spaced(ADOPT_EVERY)))

    // A job queued here for a gateway another runner owns starts there at its nudge.
    const nudge = (gatewayId: string) =>
      nudgeOwner(gatewayId, "sync").pipe(
        Effect.provideService(Sharding.Sharding, sharding),
        Effect.catchAll((error) => Effect.logWarning(`template sync: ${error.message}; the job starts at its owner's next read of the jobs`)),
        Effect.forkIn(scope)
      )

    return SyncJobs.of({
      start: (gatewayId, options) =>
        Effect.gen(function* () {
          const gateway = yield* gateways.get(gatewayId)
          if (Option.isNone(gateway)) return yield* new GatewayNotFound({ gatewayId })
          if (gateway.value.deletingAt !== null) return yield* new SyncGatewayDeleting({ gatewayId })
          if (options.boardId !== null) {
            const board = yield* boards.get(options.boardId)
            if (Option.isNone(board) || board.value.gatewayId !== gatewayId) return yield* new SyncBoardNotFound({ gatewayId, boardId: options.boardId })
          }
          const active = yield* repo.active(gatewayId)
          if (Option.isSome(active)) return yield* new SyncJobActive({ gatewayId, jobId: active.value.id })
          const job = yield* insert(gatewayId, options).pipe(Effect.catchTag("SqlError", (error) => activeOrRetry(gatewayId, options, error)))
          if (ownership.owns(gatewayId) && local.hosts(gatewayId)) yield* launch(job)
          else if (ownership.owns(gatewayId)) yield* Effect.sync(reads.nudge)
          else yield* nudge(gatewayId)
          return job
        }),
      report: (gatewayId, jobId) =>
        Effect.flatMap(find(gatewayId, jobId), (job) => Effect.map(repo.agents(jobId), (rows) => syncJobReport(job, rows))),
      events: (gatewayId, jobId) =>
        Effect.gen(function* () {
          const job = yield* find(gatewayId, jobId)
          const feed = feeds.get(jobId)
          if (feed !== undefined) return feed.events
          return storedEvents(syncJobReport(job, yield* repo.agents(jobId)))
        })
    })
  })
)
