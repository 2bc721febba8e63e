import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Data, Deferred, Effect, Exit, FiberId, Layer, Option, Queue, Runtime, type Tracer } from "effect"
import { groupCommitDuration, groupCommitLanes, groupCommitLaneStarts, groupCommitWrites } from "../observability/metrics.ts"
import { callerSpan, tracesExported } from "../observability/tracing.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentRepo, type SavedStamps } from "../store/AgentRepo.ts"
import { TransitionRepo } from "../store/TransitionRepo.ts"
import type { AgentWrite } from "./AgentWrite.ts"
import { RANKS_PER_TRANSACTION } from "../store/changeCursor.ts"
import { savedFollows, type SavedFollow } from "./savedFollows.ts"
import { boundChanges, rankChanges, takeBatch } from "./takeBatch.ts"

export type { SavedAgent, SavedFollow } from "./savedFollows.ts"

export type { AgentWrite } from "./AgentWrite.ts"

/**
 * A snapshot write that was not saved and never will be: `stale`, the row holds an equal or
 * newer version (another runner wrote it: docs/architecture.md §11), or the row is gone;
 * `withdrawn`, its writer closed before the write was taken into a batch.
 */
export class SnapshotWriteRefused extends Data.TaggedError("SnapshotWriteRefused")<{
  readonly agentId: string
  readonly version: number
  readonly reason: "stale" | "withdrawn"
}> {}

export interface GroupCommitShape {
  /**
   * Queues `write` for the next batch and completes when that batch has committed (so the
   * write is durable), or fails with the SqlError that refused it, or `SnapshotWriteRefused`
   * (stale) when the update matched no row: nothing of the write (activity, transitions, beat)
   * is then stored. Callers keep at most one write per agent in flight, which keeps each
   * agent's writes in order; a write of an agent whose batch is still in flight (a closed
   * writer's, beside its agent's new writer) waits for that batch to end.
   */
  readonly write: (write: AgentWrite) => Effect.Effect<void, SqlError | SnapshotWriteRefused>
  /**
   * `write` without a fiber: queues `write` at once and calls `done` with the outcome `write`
   * would have (or an interruption at shutdown), on the committing fiber. `done` must not throw.
   */
  readonly enqueue: (write: AgentWrite, done: WriteDone) => void
  /**
   * Takes the agent's write out of the queue if no batch has taken it yet (it fails with
   * `SnapshotWriteRefused`, withdrawn). A write already in a batch commits or fails as it would;
   * if that batch fails, the write is not retried alone but withdrawn.
   */
  readonly withdraw: (agentId: string) => Effect.Effect<void>
  /**
   * Keeps the agent's newest committed save from now until `release`, recorded before its
   * writer is answered: a caller that follows an agent before sending it an event answers
   * with the saved read model once the event is persisted, without reading it back
   * (docs/architecture.md §6.5). Only followed agents' saves are kept.
   */
  readonly follow: (agentId: string) => SavedFollow
}

/**
 * Group commit of agent snapshots: the writes of many agents go into ONE transaction, one
 * multi-row statement whatever their number (docs/architecture.md §6.5), and each caller is
 * answered when its batch commits. Writes that arrive while a batch is committing make up the next batch (the shape of
 * Postgres' own WAL flush or a Kafka producer), so a batch grows with the load and a lone write
 * waits for nobody. A batch that has stalled (committing for `STALL_FACTOR` times the recent
 * commits' mean and at least `STALLED_MS`: a lock wait, a slow flush) no longer holds back the
 * writes behind it: the next batch commits beside it, on another connection, up to `MAX_LANES`
 * batches at once. A batch that fails is retried write by write,
 * each in its own transaction, so one refused write fails alone.
 */
export class GroupCommit extends Context.Tag("switchyard/GroupCommit")<GroupCommit, GroupCommitShape>() {}

/**
 * Batches committing at once at most (docs/architecture.md §6.5): the next batch starts beside
 * one that has stalled, never beside one that commits in time, so batches keep their size under
 * load. Each lane holds a pooled connection while it commits, so two lanes may take 2 of the
 * pool's connections (10 by default) from everything else. Batches in flight never share
 * an agent: a write of an agent in a batch in flight waits for that batch to end (a closed
 * writer's write may still commit while a new writer of the agent writes). Two, with the stall
 * threshold below: measured under a heartbeat load (docs/architecture.md §6.5).
 */
export const MAX_LANES = 2

/** How long a batch commits at least before the next one may start beside it, ms: about twice a healthy commit (2–3 ms; docs/architecture.md §6.5). */
export const STALLED_MS = 5

/**
 * A batch has stalled once it commits for this many times the recent commits' mean (an average
 * over about the last 10 batches), so a server that is slow throughout (saturated) keeps one
 * batch at a time and its batches' size (docs/architecture.md §6.5).
 */
export const STALL_FACTOR = 2

/** How the group commit runs: `lanes`, batches committing at once at most; `stalledMs`, how long one commits before the next starts beside it. */
export interface GroupCommitOptions {
  readonly lanes?: number
  readonly stalledMs?: number
}


/** Called once with a queued write's outcome. */
export type WriteDone = (exit: Exit.Exit<void, SqlError | SnapshotWriteRefused>) => void

interface Queued {
  readonly write: AgentWrite
  /** Answers the write; only its first call counts (a batch that crashed, then the shutdown, may both answer it). */
  readonly done: WriteDone
  /** Its oldest transitions dropped to fit one transaction (`boundChanges`), logged with its batch. */
  readonly dropped: number
  /** The writer's span, so the batch that commits the write links back to it. */
  readonly span: Option.Option<Tracer.AnySpan>
}

/** The batch's span links: one to each write's caller, so a trace finds the commit of its snapshot. */
const linksOf = (batch: ReadonlyArray<Queued>): Array<Tracer.SpanLink> =>
  batch.flatMap((queued) => (Option.isSome(queued.span) ? [{ _tag: "SpanLink" as const, span: queued.span.value, attributes: {} }] : []))

/** A batch in flight, with the agents of it whose writer closed meanwhile (a retry write by write skips them). */
interface Lane {
  readonly batch: ReadonlyArray<Queued>
  readonly closing: Set<string>
  /** Called once when the batch has answered every write. */
  ended: (() => void) | undefined
}

/**
 * The group-commit writer on the SQL client: one fiber takes the batches, each commits on a
 * fiber of its own, one at a time unless one stalls (`GroupCommitOptions`; defaults
 * `MAX_LANES`, `STALLED_MS`; a stall is also `STALL_FACTOR` times the recent mean commit).
 */
export const groupCommitLayer = ({ lanes = MAX_LANES, stalledMs = STALLED_MS }: GroupCommitOptions = {}) => Layer.scoped(
  GroupCommit,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const agents = yield* AgentRepo
    const activity = yield* ActivityRepo
    const transitions = yield* TransitionRepo
    let pending: Queued[] = []
    // The batches committing; each leaves once every write of it is answered (an interrupted one stays for the finalizer).
    const inFlight = new Set<Lane>()
    // The agents of the batches in flight: a write of one of them waits in `pending` (a closed
    // writer's write may still commit while its agent's new writer writes).
    const busy = new Set<string>()
    // At most one wake-up pending: writes queued meanwhile are taken by the next batch.
    const wake = yield* Queue.sliding<void>(1)
    // Signalled when a batch leaves `inFlight`, so a taker waiting for a free lane goes on.
    const freed = yield* Queue.sliding<void>(1)
    // The recent batches' commit time, ms (an exponential mean, weight 1/10 each).
    let meanCommitMs = 0
    /** How long a batch commits before it has stalled, ms. */
    const stallAfter = () => Math.max(stalledMs, STALL_FACTOR * meanCommitMs)

    /**
     * One transaction for `writes`: ONE statement, atomic by itself (no BEGIN and COMMIT), that
     * saves the snapshots with their beats and, for the snapshots it saved, their activity and
     * transitions (docs/architecture.md §6.5). A batch that trims an agent's history is a
     * transaction of its own: the save, then the activity, trims and transitions (one statement
     * each). Answers the agent ids saved.
     */
    const commit = (writes: ReadonlyArray<AgentWrite>): Effect.Effect<ReadonlyMap<string, SavedStamps>, SqlError> => {
      const changes = rankChanges(writes)
      const saves = writes.map(({ agentId, projection, snapshot, version }) => ({ id: agentId, projection, snapshot, version }))
      const byId = (rows: ReadonlyArray<SavedStamps>) => new Map(rows.map((row) => [row.id, row]))
      if (writes.every((write) => write.pruneTo === undefined)) {
        const activity = writes.flatMap((write) => write.activity.map((entry) => ({ writer: write.agentId, entry })))
        return Effect.map(agents.saveMany(saves, changes.beats, { activity, transitions: changes.transitions }), byId)
      }
      return Effect.gen(function* () {
        const saved = byId(yield* agents.saveMany(saves, changes.beats))
        // A write whose snapshot was not saved (stale) stores nothing else either.
        const kept = writes.filter((write) => saved.has(write.agentId))
        yield* activity.recordMany(kept.flatMap((write) => write.activity))
        // Room for a write's transitions is made before they go in.
        yield* Effect.forEach(kept, (write) => (write.pruneTo === undefined ? Effect.void : transitions.prune(write.agentId, write.pruneTo)), { discard: true })
        // Numbered by this transaction's id and their rank, announced at commit (migration 0014).
        yield* transitions.recordMany(changes.transitions.filter((transition) => saved.has(transition.agentId)))
        return saved
      }).pipe(sql.withTransaction)
    }

    const follows = savedFollows()
    const settle = (batch: ReadonlyArray<Queued>, exit: Exit.Exit<ReadonlyMap<string, SavedStamps>, SqlError>) =>
      Effect.sync(() => {
        const outcome = Exit.asVoid(exit)
        // Recorded before any writer is answered, so a follower resumed by the answer finds it.
        if (Exit.isSuccess(exit) && follows.any()) {
          for (const { write } of batch) {
            const stamps = exit.value.get(write.agentId)
            if (stamps !== undefined) follows.record(write, stamps)
          }
        }
        for (const queued of batch) {
          queued.done(
            Exit.isFailure(exit) || exit.value.has(queued.write.agentId)
              ? outcome
              : Exit.fail(new SnapshotWriteRefused({ agentId: queued.write.agentId, version: queued.write.version, reason: "stale" }))
          )
        }
      })

    /** Commits `lane`'s batch and answers its writes (one by one if the batch fails). */
    const commitLane = (lane: Lane) => Effect.gen(function* () {
      const batch = lane.batch
      const startedAt = performance.now()
      groupCommitWrites.observe(batch.length)
      for (const queued of batch) {
        if (queued.dropped > 0) {
          yield* Effect.logWarning(`agent ${queued.write.agentId}: its ${queued.dropped} oldest unsaved transitions are dropped (one transaction ranks at most ${RANKS_PER_TRANSACTION} changes)`)
        }
      }
      // Suspended: a write that cannot be encoded (a cycle, a BigInt) fails its batch as a defect.
      const committed = Effect.suspend(() => commit(batch.map((queued) => queued.write)))
      // A span only while spans are exported: under Effect's own tracer it would cost every batch
      // a span and a captured stack trace that nothing reads (docs/operations.md §3.5).
      const traced = yield* tracesExported
      const exit = yield* Effect.exit(
        traced ? Effect.withSpan(committed, "Agents.groupCommit", { kind: "client", attributes: { writes: batch.length }, links: linksOf(batch) }) : committed
      )
      if (Exit.isSuccess(exit) || batch.length === 1) {
        yield* settle(batch, exit)
      } else {
        // One refused write must not hold back the others: each alone, in order.
        yield* Effect.logWarning(`group commit of ${batch.length} agent writes failed; writing them one by one`, exit.cause)
        yield* Effect.forEach(
          batch,
          (queued) =>
            lane.closing.has(queued.write.agentId)
              ? Effect.sync(() => queued.done(Exit.fail(new SnapshotWriteRefused({ agentId: queued.write.agentId, version: queued.write.version, reason: "withdrawn" }))))
              : Effect.flatMap(Effect.exit(Effect.suspend(() => commit([queued.write]))), (alone) => settle([queued], alone)),
          { discard: true }
        )
      }
      const took = performance.now() - startedAt
      // Only a committed batch: a failed one (and its retries write by write) is no commit time.
      // A stalled batch counts as the stall threshold: one long lock wait does not raise it for long.
      if (Exit.isSuccess(exit)) meanCommitMs += (Math.min(took, stallAfter()) - meanCommitMs) / 10
      groupCommitDuration.observe(took / 1_000)
    })

    /** `lane` leaves `inFlight` (every write of it answered) and whoever waits for it goes on. */
    const leave = (lane: Lane) => {
      inFlight.delete(lane)
      for (const queued of lane.batch) busy.delete(queued.write.agentId)
      groupCommitLanes.set(inFlight.size)
      // Writes of its agents left in `pending` may be taken now.
      if (pending.length > 0) Queue.unsafeOffer(wake, undefined)
      Queue.unsafeOffer(freed, undefined)
      lane.ended?.()
    }

    /** Waits until `lane` has ended, or has stalled (`STALL_FACTOR` × the mean commit, at least `stalledMs`). */
    const awaitTurn = (lane: Lane) =>
      Effect.async<void>((resume) => {
        if (!inFlight.has(lane)) return resume(Effect.void)
        let timer: ReturnType<typeof setTimeout> | undefined
        const go = () => {
          if (timer !== undefined) clearTimeout(timer)
          timer = undefined
          lane.ended = undefined
          resume(Effect.void)
        }
        lane.ended = go
        if (lanes > 1) timer = setTimeout(go, stallAfter())
        return Effect.sync(() => {
          if (timer !== undefined) clearTimeout(timer)
          lane.ended = undefined
        })
      })

    const runBatch = Effect.gen(function* () {
      // Every lane busy (each batch stalled): the next batch waits for one to end.
      while (inFlight.size >= lanes) yield* Queue.take(freed)
      // A write of an agent in a batch in flight stays queued until that batch ends (`leave`).
      const { batch, rest, full } = takeBatch(pending, busy)
      pending = rest
      if (full && pending.length > 0) yield* Queue.offer(wake, undefined)
      if (batch.length === 0) return
      const lane: Lane = { batch, closing: new Set(), ended: undefined }
      groupCommitLaneStarts.inc({ reason: inFlight.size === 0 ? "idle" : "stalled" })
      inFlight.add(lane)
      for (const queued of batch) busy.add(queued.write.agentId)
      groupCommitLanes.set(inFlight.size)
      // On a fiber of its own, a child of this one: interrupted with it, its batch then stays for the finalizer.
      yield* Effect.fork(
        commitLane(lane).pipe(
          Effect.catchAllCause((cause) =>
            Effect.zipRight(
              Effect.logError("group commit: a batch failed unexpectedly", cause),
              // Its writes not yet answered fail with the cause: their writers retry them.
              Effect.sync(() => {
                for (const queued of batch) queued.done(Exit.failCause(cause))
              })
            )
          ),
          Effect.zipRight(Effect.sync(() => leave(lane)))
        )
      )
      yield* awaitTurn(lane)
    })

    // Registered before the committing fiber, so it runs after that fiber is stopped: writes it
    // had not answered are refused (interrupted) rather than left waiting for ever.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const queued of [...[...inFlight].flatMap((lane) => lane.batch), ...pending.splice(0)]) queued.done(Exit.interrupt(FiberId.none))
      })
    )

    yield* Queue.take(wake).pipe(
      Effect.zipRight(runBatch),
      Effect.catchAllCause((cause) => Effect.logError("group commit: a batch failed unexpectedly", cause)),
      Effect.forever,
      Effect.forkScoped
    )

    const runtime = yield* Effect.runtime<never>()
    const enqueue = (offered: AgentWrite, done: WriteDone) => {
      const write = boundChanges(offered)
      // A callback that throws must not leave the rest of its batch unanswered.
      // Answered once: a later answer (the shutdown's, after a crashed batch's) is dropped.
      let answered = false
      const answer: WriteDone = (exit) => {
        if (answered) return
        answered = true
        try {
          done(exit)
        } catch (error) {
          Runtime.runFork(runtime)(Effect.logError(`agent ${offered.agentId}: handling the outcome of its snapshot write failed`, error))
        }
      }
      pending.push({ write, done: answer, dropped: offered.transitions.length - write.transitions.length, span: callerSpan() })
      Queue.unsafeOffer(wake, undefined)
    }

    return GroupCommit.of({
      write: (offered) =>
        Effect.suspend(() => {
          const done = Deferred.unsafeMake<void, SqlError | SnapshotWriteRefused>(FiberId.none)
          enqueue(offered, (exit) => Deferred.unsafeDone(done, exit))
          return Deferred.await(done)
        }),
      enqueue,
      follow: follows.follow,
      withdraw: (agentId) =>
        Effect.sync(() => {
          for (const lane of inFlight) if (lane.batch.some((queued) => queued.write.agentId === agentId)) lane.closing.add(agentId)
          const taken = pending.filter((queued) => queued.write.agentId === agentId)
          if (taken.length === 0) return
          pending = pending.filter((queued) => queued.write.agentId !== agentId)
          for (const queued of taken) queued.done(Exit.fail(new SnapshotWriteRefused({ agentId, version: queued.write.version, reason: "withdrawn" })))
        })
    })
  })
)

/** The group commit with its defaults (`MAX_LANES`, `STALLED_MS`). */
export const GroupCommitLive = groupCommitLayer()
