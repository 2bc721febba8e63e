import { Effect, Stream, SubscriptionRef } from "effect"
import type { SyncAgentResult, SyncAgentRow, SyncJobRow, SyncJobStatus } from "../store/SyncJobRepo.ts"
import { agentView, progressOf, type SyncAgentView, type SyncJobReport, type SyncProgress } from "./syncJobReport.ts"

/** What a job's event stream carries: progress, one event per agent result, then the final result. */
export type SyncJobEvent =
  | { readonly type: "progress"; readonly job_id: string; readonly status: SyncJobStatus; readonly progress: SyncProgress }
  | { readonly type: "agent"; readonly job_id: string; readonly agent: SyncAgentView; readonly progress: SyncProgress }
  | { readonly type: "done"; readonly job_id: string; readonly result: SyncJobReport }
  /** The job's run stopped here without a result (its gateway moved, the service stopped): the job goes on; read it again. */
  | { readonly type: "stopped"; readonly job_id: string; readonly reason: string; readonly progress: SyncProgress }

interface FeedState {
  readonly status: SyncJobStatus
  readonly progress: SyncProgress
  /** The event that produced this state (none for the initial one). */
  readonly change: SyncJobEvent | null
  readonly result: SyncJobReport | null
  /** Why the run stopped without a result (`stop`), or null. */
  readonly stopped: string | null
}

/**
 * The live state of one running job, fed by its runner and read by any number of event-stream
 * clients without touching the database: a `SubscriptionRef`, so a client that joins gets the
 * current state and then every change, with nothing lost or doubled in between.
 */
export interface SyncJobFeed {
  /** The job's agents are known (selected, or read back on resume). */
  readonly started: (rows: ReadonlyArray<SyncAgentRow>) => Effect.Effect<void>
  /** One agent's result was recorded. */
  readonly recorded: (row: SyncAgentRow, result: SyncAgentResult) => Effect.Effect<void>
  readonly finished: (result: SyncJobReport) => Effect.Effect<void>
  /** Ends the feed with `stopped` and `reason`, unless it has finished (or stopped) already. */
  readonly stop: (reason: string) => Effect.Effect<void>
  /** Current progress first, then each change; ends after `done` or `stopped`. */
  readonly events: Stream.Stream<SyncJobEvent>
}

const progressEvent = (jobId: string, state: Pick<FeedState, "status" | "progress">): SyncJobEvent => ({ type: "progress", job_id: jobId, status: state.status, progress: state.progress })

const doneEvent = (jobId: string, result: SyncJobReport): SyncJobEvent => ({ type: "done", job_id: jobId, result })

const stoppedEvent = (jobId: string, reason: string, progress: SyncProgress): SyncJobEvent => ({ type: "stopped", job_id: jobId, reason, progress })

/** What a client joining now gets first: the current progress, then `done` if the job has its result (or `stopped` if its run stopped). */
const openingEvents = (jobId: string, state: Pick<FeedState, "status" | "progress" | "result"> & { readonly stopped?: string | null }): Stream.Stream<SyncJobEvent> =>
  Stream.fromIterable(
    state.result !== null
      ? [progressEvent(jobId, state), doneEvent(jobId, state.result)]
      : state.stopped != null
        ? [progressEvent(jobId, state), stoppedEvent(jobId, state.stopped, state.progress)]
        : [progressEvent(jobId, state)]
  )

const isLast = (event: SyncJobEvent) => event.type === "done" || event.type === "stopped"

/** The events of a job that has no feed (finished before the client came): its stored state, then done. */
export const storedEvents = (result: SyncJobReport): Stream.Stream<SyncJobEvent> =>
  openingEvents(result.job_id, { status: result.status, progress: result.progress, result: result.status === "done" || result.status === "failed" ? result : null })

const bump = (progress: SyncProgress, status: SyncAgentResult["status"]): SyncProgress => ({
  total: progress.total,
  done: progress.done + 1,
  updated: progress.updated + (status === "updated" ? 1 : 0),
  skipped: progress.skipped + (status === "skipped" ? 1 : 0),
  failed: progress.failed + (status === "error" ? 1 : 0)
})

/** A feed for `job`, starting from its stored counts (before its agents are read). */
export const makeSyncJobFeed = (job: SyncJobRow): Effect.Effect<SyncJobFeed> =>
  Effect.map(
    SubscriptionRef.make<FeedState>({
      status: job.status,
      progress: { total: job.totalCount, done: 0, updated: 0, skipped: 0, failed: 0 },
      change: null,
      result: null,
      stopped: null
    }),
    (ref): SyncJobFeed => ({
      started: (rows) =>
        SubscriptionRef.update(ref, (state) => {
          const next = { ...state, status: "running" as const, progress: progressOf(rows) }
          return { ...next, change: progressEvent(job.id, next) }
        }),
      recorded: (row, result) =>
        SubscriptionRef.update(ref, (state) => {
          const progress = bump(state.progress, result.status)
          const agent = agentView({ ...row, ...result })
          const change: SyncJobEvent = { type: "agent", job_id: job.id, agent, progress }
          return { ...state, progress, change }
        }),
      finished: (result) =>
        SubscriptionRef.update(ref, (state) => ({
          ...state,
          status: result.status,
          progress: result.progress,
          result,
          change: doneEvent(job.id, result)
        })),
      stop: (reason) =>
        SubscriptionRef.update(ref, (state) =>
          state.result !== null || state.stopped !== null ? state : { ...state, stopped: reason, change: stoppedEvent(job.id, reason, state.progress) }
        ),
      events: ref.changes.pipe(
        Stream.zipWithIndex,
        Stream.flatMap(([state, index]) => {
          if (index > 0) return state.change === null ? Stream.empty : Stream.make(state.change)
          return openingEvents(job.id, state)
        }),
        Stream.takeUntil(isLast)
      )
    })
  )
