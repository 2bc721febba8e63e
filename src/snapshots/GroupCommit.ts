import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Deferred, Effect, FiberId, Layer } from "effect"
import { callerSpan } from "../observability/tracing.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentRepo, type SavedStamps } from "../store/AgentRepo.ts"
import { TransitionRepo } from "../store/TransitionRepo.ts"
import type { AgentWrite } from "./AgentWrite.ts"
import { answerOnce, type WriteDone } from "./answerOnce.ts"
import { laneCommit } from "./laneCommit.ts"
import { laneScheduler } from "./laneScheduler.ts"
import { savedFollows, type SavedFollow } from "./savedFollows.ts"
import { SnapshotWriteRefused } from "./SnapshotWriteRefused.ts"
import { boundChanges, rankChanges } from "./takeBatch.ts"

export type { SavedAgent, SavedFollow } from "./savedFollows.ts"

export type { AgentWrite } from "./AgentWrite.ts"

export type { WriteDone } from "./answerOnce.ts"

export { STALL_FACTOR } from "./laneCommit.ts"

export { SnapshotWriteRefused } from "./SnapshotWriteRefused.ts"

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

/** How the group commit runs: `lanes`, batches committing at once at most; `stalledMs`, how long one commits before the next starts beside it. */
export interface GroupCommitOptions {
  readonly lanes?: number
  readonly stalledMs?: number
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
    const { commitLane, stallAfter } = laneCommit({ stalledMs, commit, follows })
    const queue = yield* laneScheduler({ lanes, stallAfter, commitLane })

    const runtime = yield* Effect.runtime<never>()
    const enqueue = (offered: AgentWrite, done: WriteDone) => {
      const write = boundChanges(offered)
      queue.push({ write, done: answerOnce(runtime, offered.agentId, done), dropped: offered.transitions.length - write.transitions.length, span: callerSpan() })
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
      withdraw: (agentId) => Effect.sync(() => queue.withdraw(agentId))
    })
  })
)

/** The group commit with its defaults (`MAX_LANES`, `STALLED_MS`). */
export const GroupCommitLive = groupCommitLayer()