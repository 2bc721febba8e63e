import type { SqlError } from "@effect/sql/SqlError"
import { Array as Arr, Deferred, Effect, Fiber, FiberSet, Option, Schedule, type Scope } from "effect"
import { concurrently } from "../agents/programs/concurrently.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { ensureMainAgent } from "../fleet/ensureMainAgent.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { SyncJobRepo, type SyncAgentRow, type SyncJobRow } from "../store/SyncJobRepo.ts"
import { isGone, readyForUpdate } from "./agentSettled.ts"
import { planSync } from "./planSync.ts"
import { syncAgent } from "./syncAgent.ts"
import type { SyncJobFeed } from "./SyncJobFeed.ts"
import { syncJobReport } from "./syncJobReport.ts"

/**
 * Agents whose generations are stored ahead of their turn, per sync place, at most
 * (docs/architecture.md §9.2): shared statements for the next agents, so a place reaching one of
 * them sends at once. Topped up once half of them have been taken.
 */
const STORED_AHEAD_PER_PLACE = 4

/** Results awaiting their agents' saves per sync place (docs/architecture.md §9.2): a bound on the record stage's fibers when saves lag. */
const RECORDS_PER_PLACE = 8

/** Waits until the agent actors are restored (or their restore has failed: the rest can still be synced). */
const actorsRestored = Effect.flatMap(AgentSystem, (system) =>
  system.readiness.pipe(Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (readiness) => readiness.state !== "restoring" }))
)

/**
 * Selects and stores the job's agents (once per job; a resumed job keeps its selection).
 * Output: why the job cannot run (gateway gone or being deleted), or null.
 */
const plan = Effect.fn("Sync.plan")(function* (job: SyncJobRow) {
  const repo = yield* SyncJobRepo
  const gateway = yield* Effect.flatMap(GatewayRepo, (gateways) => gateways.get(job.gatewayId))
  if (Option.isNone(gateway)) return "gateway not found"
  if (gateway.value.deletingAt !== null) return "gateway is being deleted"
  // The main agent exists before it is synced (docs/operations.md §6.8: ensured first).
  const main = job.options.includeMain ? yield* ensureMainAgent({ id: gateway.value.id, name: gateway.value.name }) : null
  const candidates = yield* repo.candidates(job.gatewayId)
  yield* repo.plan(job.id, planSync(candidates, job.options, main))
  return null
})

/**
 * Runs one template sync job to its end (docs/architecture.md §9.2): waits for the agent actors to be
 * restored, selects the agents unless an earlier run did, then syncs every agent still
 * pending (`syncAgent`), board agents `syncConcurrency` at a time and the main agent last, and
 * records each result as it comes (database and `feed`). Resumable at any point: what is
 * recorded is not redone, and an update already sent is awaited rather than sent again.
 * No agent's failure or timeout stops the rest (docs/operations.md §6.8).
 * Errors: SqlError, AgentPersistTimeout (the caller restarts the run).
 */
export const runSyncJob = Effect.fn("Sync.runJob")(function* (jobId: string, feed: SyncJobFeed) {
  const repo = yield* SyncJobRepo
  const config = yield* AppConfig
  yield* actorsRestored
  const job = yield* repo.get(jobId)
  // Gone with its gateway (its feed ends as stopped), or finished by an earlier run: its clients get its result.
  if (Option.isNone(job)) return
  if (job.value.status === "done" || job.value.status === "failed") return yield* feed.finished(syncJobReport(job.value, yield* repo.agents(jobId)))
  yield* repo.markRunning(jobId)
  const refusal = job.value.planned ? null : yield* plan(job.value)
  if (refusal !== null) {
    yield* repo.finish(jobId, "failed", refusal)
  } else {
    const rows = yield* repo.agents(jobId)
    yield* feed.started(rows)
    const system = yield* AgentSystem
    /** The generation (and attempt) stored ahead for an agent, and the wait for its statement. */
    const ahead = new Map<string, { readonly generation: number; readonly attempts: number; readonly stored: Effect.Effect<void, SqlError> }>()
    /**
     * Stores the generation the agent's update will most likely carry (its actor here and ready:
     * the next one), ahead of its turn; the statements of agents stored together are shared
     * (`batchedStatements`). A resumed job's stored generation stands.
     */
    const storeAhead = (row: SyncAgentRow, scope: Scope.Scope) =>
      Effect.suspend(() => {
        const snapshot = system.snapshot(row.agentId)
        if (row.sentGeneration !== null || snapshot === undefined || !readyForUpdate(snapshot) || isGone(snapshot)) return Effect.void
        const generation = snapshot.context.generation + 1
        const attempts = row.attempts + 1
        return Effect.map(Effect.forkIn(repo.markSent(jobId, row.agentId, generation, attempts), scope), (fiber) =>
          void ahead.set(row.agentId, { generation, attempts, stored: Fiber.join(fiber) })
        )
      })
    /** Syncs one agent; its result is recorded by `recordOne`, so the next agent need not wait for that write. */
    const syncOne = (row: SyncAgentRow) => {
      let attempts = row.attempts
      return syncAgent({
        agentId: row.agentId,
        options: job.value.options,
        sentGeneration: row.sentGeneration,
        attempts: row.attempts,
        timeoutMs: config.syncAgentTimeoutMs,
        retryBaseMs: config.retryBaseMs,
        jobId,
        onSend: (generation, attempt) => {
          attempts = attempt
          const early = ahead.get(row.agentId)
          ahead.delete(row.agentId)
          const store = repo.markSent(jobId, row.agentId, generation, attempt)
          // Stored ahead with this generation: only its statement is awaited (done by now, mostly).
          // A store-ahead that failed (the database away back then) is stored again now: an old
          // error never fails the agent, nor restarts the run.
          return early !== undefined && early.generation === generation && early.attempts === attempt
            ? Effect.catchAll(early.stored, (error) => Effect.zipRight(Effect.logDebug("generation stored ahead failed; stored again at the agent's turn", error.message), store))
            : store
        }
      }).pipe(Effect.map((result) => ({ row: { ...row, attempts }, result })))
    }
    // Recorded once the agent's settled state is durable (`saved`): a crash before that may redo its apply.
    const recordOne = ({ row, result: settled }: Effect.Effect.Success<ReturnType<typeof syncOne>>) =>
      Effect.flatMap(settled.saved, (result) => Effect.flatMap(repo.record(jobId, row.agentId, result), (recorded) => (recorded ? feed.recorded(row, result) : Effect.void)))
    // `concurrency` agents in flight; an agent settled (in memory) frees its place at once, and
    // its result is saved and recorded beside the next agents' syncs.
    const syncAll = (rows: ReadonlyArray<SyncAgentRow>, concurrency: number) =>
      Effect.scoped(
        Effect.flatMap(Effect.scope, (scope) => {
          const window = concurrency * STORED_AHEAD_PER_PLACE
          /** The last agent a place took, and the end of the agents stored so far (indexes in `rows`). */
          let taken = -1
          let storedTo = 0
          /**
           * As a place takes agent `index`: once half the window or less is stored past the last
           * agent taken, the agents up to `window` past it are stored, in shared statements. So at
           * most `window` agents are stored ahead of their turn (docs/architecture.md §9.2).
           */
          const topUp = (index: number) =>
            Effect.suspend(() => {
              taken = Math.max(taken, index)
              if (storedTo - (taken + 1) > window / 2) return Effect.void
              const from = storedTo
              storedTo = Math.min(rows.length, taken + 1 + window)
              return Effect.forEach(rows.slice(from, storedTo), (row) => storeAhead(row, scope), { discard: true })
            })
          // Each place takes the next agent as its last one settles, so a place is one fiber for the
          // whole job, not one per agent; a settled agent's result is saved and recorded in a fiber
          // of its own, beside the next agents' syncs, up to RECORDS_PER_PLACE per place: past that
          // (saves lagging), the places wait for the records.
          return Effect.gen(function* () {
            const records = yield* FiberSet.make<void, SqlError>()
            const recordPermits = yield* Effect.makeSemaphore(concurrency * RECORDS_PER_PLACE)
            let next = 0
            type Synced = ReturnType<typeof syncOne>
            type Recorded = ReturnType<typeof recordOne>
            const place: Effect.Effect<void, Effect.Effect.Error<Synced | Recorded>, Effect.Effect.Context<Synced | Recorded>> = Effect.suspend(() => {
              if (next >= rows.length) return Effect.void
              const index = next++
              // The next agents' generations are stored while the places work on the ones before them.
              return Effect.zipRight(topUp(index), syncOne(rows[index]!)).pipe(
                Effect.flatMap((synced) => Effect.zipRight(recordPermits.take(1), FiberSet.run(records, Effect.ensuring(recordOne(synced), recordPermits.release(1))))),
                Effect.zipRight(place)
              )
            })
            const work = Effect.zipRight(
              concurrently(Array.from({ length: Math.min(concurrency, rows.length) }, () => place)),
              // Every record ended: a failed one completed the set's failure before it left the set.
              Effect.zipRight(FiberSet.awaitEmpty(records), Effect.flatMap(Deferred.poll(records.deferred), Option.getOrElse(() => Effect.void)))
            )
            // A failed record stops the places at once, as a failed place stops the others.
            yield* Effect.raceFirst(work, Effect.zipRight(FiberSet.join(records), Effect.never))
          })
        })
      )
    const [board, main] = Arr.partition(
      rows.filter((row) => row.status === "pending"),
      (row) => row.role === "main"
    )
    yield* syncAll(board, config.syncConcurrency)
    // The gateway-main agent after every board agent (docs/operations.md §6.8).
    yield* syncAll(main, 1)
    yield* repo.finish(jobId, "done", null)
  }
  // A job deleted with its gateway meanwhile still ends for the clients following it.
  const finished = Option.getOrElse(yield* repo.get(jobId), () => ({ ...job.value, status: "failed" as const, message: "the gateway was deleted", finishedAt: new Date() }))
  yield* feed.finished(syncJobReport(finished, yield* repo.agents(jobId)))
})
