import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit, Option, type Tracer } from "effect"
import { groupCommitDuration, groupCommitWrites } from "../observability/metrics.ts"
import { tracesExported } from "../observability/tracing.ts"
import type { SavedStamps } from "../store/AgentRepo.ts"
import { RANKS_PER_TRANSACTION } from "../store/changeCursor.ts"
import type { AgentWrite } from "./AgentWrite.ts"
import type { WriteDone } from "./answerOnce.ts"
import type { savedFollows } from "./savedFollows.ts"
import { SnapshotWriteRefused } from "./SnapshotWriteRefused.ts"

/**
 * A batch has stalled once it commits for this many times the recent commits' mean (an average
 * over about the last 10 batches), so a server that is slow throughout (saturated) keeps one
 * batch at a time and its batches' size (docs/architecture.md §6.5).
 */
export const STALL_FACTOR = 2

/** A write waiting in the group commit, or in a batch of it. */
export interface Queued {
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
export interface Lane {
  readonly batch: ReadonlyArray<Queued>
  readonly closing: Set<string>
  /** Called once when the batch has answered every write. */
  ended: (() => void) | undefined
}

/** What `laneCommit` commits with: one transaction for writes (answering the agent ids saved), and the follows to record saves for. */
export interface LaneCommitOptions {
  readonly stalledMs: number
  readonly commit: (writes: ReadonlyArray<AgentWrite>) => Effect.Effect<ReadonlyMap<string, SavedStamps>, SqlError>
  readonly follows: ReturnType<typeof savedFollows>
}

/**
 * The commit of one lane's batch (docs/architecture.md §6.5): `commitLane` commits it and answers
 * its writes (each one alone, in order, if the batch fails); `stallAfter` is how long a batch
 * commits before it has stalled, ms (`STALL_FACTOR` × the recent mean commit, at least `stalledMs`).
 */
export const laneCommit = ({ stalledMs, commit, follows }: LaneCommitOptions) => {
  // The recent batches' commit time, ms (an exponential mean, weight 1/10 each).
  let meanCommitMs = 0
  /** How long a batch commits before it has stalled, ms. */
  const stallAfter = () => Math.max(stalledMs, STALL_FACTOR * meanCommitMs)

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

  return { commitLane, stallAfter }
}
