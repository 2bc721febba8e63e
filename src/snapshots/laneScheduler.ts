import { Effect, Exit, FiberId, Queue, type Scope } from "effect"
import { groupCommitLanes, groupCommitLaneStarts } from "../observability/metrics.ts"
import type { Lane, Queued } from "./laneCommit.ts"
import { SnapshotWriteRefused } from "./SnapshotWriteRefused.ts"
import { takeBatch } from "./takeBatch.ts"

/** What `laneScheduler` runs: at most `lanes` batches at once, each committed by `commitLane`; `stallAfter` ms before the next starts beside one. */
export interface LaneSchedulerOptions {
  readonly lanes: number
  readonly stallAfter: () => number
  readonly commitLane: (lane: Lane) => Effect.Effect<void>
}

/** The queue of the group commit: `push` queues a write, `withdraw` takes an agent's queued write out (refused, withdrawn). */
export interface LaneScheduler {
  readonly push: (queued: Queued) => void
  readonly withdraw: (agentId: string) => void
}

/**
 * The lanes of the group commit (docs/architecture.md §6.5): one fiber, forked in the scope, takes
 * the batches, each commits on a fiber of its own, one at a time unless one stalls (`stallAfter`),
 * at most `lanes` at once; batches in flight never share an agent. When the scope closes, every
 * write not yet answered is refused (interrupted).
 */
export const laneScheduler = ({ lanes, stallAfter, commitLane }: LaneSchedulerOptions): Effect.Effect<LaneScheduler, never, Scope.Scope> =>
  Effect.gen(function* () {
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

    return {
      push: (queued) => {
        pending.push(queued)
        Queue.unsafeOffer(wake, undefined)
      },
      withdraw: (agentId) => {
        for (const lane of inFlight) if (lane.batch.some((queued) => queued.write.agentId === agentId)) lane.closing.add(agentId)
        const taken = pending.filter((queued) => queued.write.agentId === agentId)
        if (taken.length === 0) return
        pending = pending.filter((queued) => queued.write.agentId !== agentId)
        for (const queued of taken) queued.done(Exit.fail(new SnapshotWriteRefused({ agentId, version: queued.write.version, reason: "withdrawn" })))
      }
    }
  })
