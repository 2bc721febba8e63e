import { Deferred, Duration, Effect, Exit, FiberId } from "effect"
import type { ActivityEntry } from "../store/ActivityRepo.ts"
import { livenessEventTypes } from "../../machines/agent/livenessTypes.ts"
import { observeEventToPersist } from "../observability/agentMetrics.ts"
import type { NewTransition } from "../store/TransitionRepo.ts"
import type { AgentProjection } from "../agents/agentProjection.ts"
import { GroupCommit, SnapshotWriteRefused, type AgentWrite } from "./GroupCommit.ts"

interface Pending {
  readonly version: number
  readonly snapshot: unknown
  readonly projection: AgentProjection
}

/** Delay before the next attempt of a failed write: 100 ms doubling to 5 s. */
const retryDelay = (failures: number) => Duration.millis(Math.min(5_000, 100 * 2 ** failures))

/** Liveness events: the agent's own heartbeat and the gateway's signals (docs/operations.md §8). */
const livenessEvents: ReadonlySet<string> = new Set(["agent.heartbeat", ...livenessEventTypes])

/**
 * Whether a transition is a liveness event (a heartbeat or a gateway signal) that left the
 * agent's state as it was: liveness, not a transition (docs/architecture.md §8.1). It is saved as
 * the agent's newest beat, with its event type, not as a row.
 */
export const isBeat = (transition: Omit<NewTransition, "version">): boolean =>
  livenessEvents.has(transition.eventType) && transition.fromState !== null && transition.fromState === transition.toState

type Beat = NonNullable<AgentWrite["beat"]>

/** What the writer's effects need. */
export type WriterServices = GroupCommit

/**
 * Persists one agent's snapshots in order, one write at a time (writes are serialised per
 * agent), through the shared `GroupCommit` (many agents' writes share a transaction). Snapshots
 * that arrive while a write is under way are coalesced: only the newest is written, because it
 * contains every earlier change; activity entries and transitions are never coalesced and go in
 * the same transaction, so a transition is recorded exactly when the
 * snapshot it led to (or a later one) is saved. A liveness event that leaves the state as it was
 * (`isBeat`) is no transition: the write carries the newest such beat instead, and coalesces.
 * Versions are monotonic per agent. The agent's transition history is trimmed to the newest `transitionsKeep` every ⌈keep/10⌉ recorded
 * transitions (one indexed delete, amortised), so between trims it holds fewer than
 * keep + ⌈keep/10⌉ rows.
 *
 * A writer ends (`close`, or a write refused as stale: another runner stored an equal or newer
 * version) for good: it writes nothing more, and every wait, present or future, fails with
 * `SnapshotWriteRefused`; a stale refusal calls `onStale` so the owner can reload the agent
 * (docs/architecture.md §11).
 */
export class SnapshotWriter {
  // A fleet holds one writer per agent, nearly all idle: the pending snapshot is dropped once
  // saved, and each list below exists only while it has members (an empty array is 16 bytes,
  // four of them a quarter of an idle writer).
  /** The newest snapshot offered and not yet saved. */
  private latest: Pending | undefined
  private activity: ActivityEntry[] | undefined
  private transitions: NewTransition[] | undefined
  /** The newest beat offered and not yet saved. */
  private beat: Beat | undefined
  /** Transitions recorded since the last trim. */
  private untrimmed = 0
  private writing = false
  /** When each snapshot not yet saved was offered (`performance.now()`), for the persist-latency metric. */
  private offeredAt: number[] | undefined
  private waiters: Array<{ version: number; done: Deferred.Deferred<void, SnapshotWriteRefused> }> | undefined
  /** Set once the writer has ended: why. */
  private ended: SnapshotWriteRefused | undefined
  /** Exists while a drain runs and someone waits for it to end (`close`), or it sleeps before a retry. */
  private drained: Deferred.Deferred<void> | undefined
  private woken: Deferred.Deferred<void> | undefined

  readonly agentId: string
  /** Version of the last snapshot handed to `offer` (or restored). */
  version: number
  /** Version of the last snapshot known to be in the database. */
  persisted: number
  private readonly run: (effect: Effect.Effect<void, never, WriterServices>, agentId: string) => void
  /** Transitions kept per agent (`SWITCHYARD_TRANSITIONS_KEEP_PER_AGENT`). */
  private readonly transitionsKeep: number
  private readonly onStale: ((agentId: string) => void) | undefined

  /** `run` forks a drain of `agentId`'s writer (one function may serve every writer). */
  constructor(
    agentId: string,
    version: number,
    persisted: number,
    run: (effect: Effect.Effect<void, never, WriterServices>, agentId: string) => void,
    transitionsKeep = 500,
    onStale?: (agentId: string) => void
  ) {
    this.agentId = agentId
    this.version = version
    this.persisted = persisted
    this.run = run
    this.transitionsKeep = transitionsKeep
    this.onStale = onStale
  }

  /** Whether the writer has ended (closed, or refused as stale). */
  get isEnded(): boolean {
    return this.ended !== undefined
  }

  /**
   * Ends the writer: no write starts after this, a queued one is withdrawn (as is one whose
   * batch failed and is retried write by write), and it completes once a write already in a
   * batch has committed or failed, so nothing of this writer reaches the database afterwards.
   * That batch's statements are each bounded by the statement timeout, not the whole: callers
   * bound the wait (`stopActors`). Waits fail with `SnapshotWriteRefused` (withdrawn).
   */
  close(): Effect.Effect<void, never, WriterServices> {
    return Effect.suspend(() => {
      this.end(new SnapshotWriteRefused({ agentId: this.agentId, version: this.version, reason: "withdrawn" }))
      if (!this.writing) return Effect.void
      this.drained ??= Deferred.unsafeMake<void>(FiberId.none)
      const drained = this.drained
      return Effect.andThen(Effect.flatMap(GroupCommit, (groupCommit) => groupCommit.withdraw(this.agentId)), Deferred.await(drained))
    })
  }

  /** Marks the writer ended with `reason`, drops what it held and fails its waiters. */
  private end(reason: SnapshotWriteRefused): void {
    if (this.ended !== undefined) return
    this.ended = reason
    this.latest = undefined
    this.activity = undefined
    this.transitions = undefined
    this.beat = undefined
    this.offeredAt = undefined
    const waiters = this.waiters ?? []
    this.waiters = undefined
    for (const waiter of waiters) Deferred.unsafeDone(waiter.done, Exit.fail(reason))
    if (this.woken !== undefined) Deferred.unsafeDone(this.woken, Exit.void)
  }

  /**
   * Queues a snapshot with the activity rows and the transition (if it was one) that led to it;
   * the transition is stamped with the snapshot's version. Returns the version.
   */
  offer(
    snapshot: unknown,
    projection: AgentProjection,
    activity: ReadonlyArray<ActivityEntry>,
    transition?: Omit<NewTransition, "version"> | undefined
  ): number {
    this.version += 1
    if (this.ended !== undefined) return this.version
    this.offeredAt ??= []
    this.offeredAt.push(performance.now())
    this.latest = { version: this.version, snapshot, projection }
    if (activity.length > 0) {
      this.activity ??= []
      this.activity.push(...activity)
    }
    if (transition !== undefined && isBeat(transition)) {
      this.beat = { gatewayId: transition.gatewayId, boardId: transition.boardId, eventType: transition.eventType, at: transition.at }
    } else if (transition !== undefined) {
      this.transitions ??= []
      this.transitions.push({ ...transition, version: this.version })
    }
    if (!this.writing) {
      this.writing = true
      this.run(this.drain(), this.agentId)
    }
    return this.version
  }

  /**
   * Completes once the snapshot of `version` (or a later one) is in the database; fails with
   * `SnapshotWriteRefused` if the writer ended before.
   */
  awaitPersisted(version: number): Effect.Effect<void, SnapshotWriteRefused> {
    // Check and enqueue in one synchronous step, so a drain finishing in between is not missed.
    return Effect.suspend(() => {
      if (this.persisted >= version) return Effect.void
      if (this.ended !== undefined) return Effect.fail(this.ended)
      const done = Deferred.unsafeMake<void, SnapshotWriteRefused>(FiberId.none)
      this.waiters ??= []
      this.waiters.push({ version, done })
      return Deferred.await(done)
    })
  }

  private drain(): Effect.Effect<void, never, WriterServices> {
    const self = this
    return Effect.gen(function* () {
      const groupCommit = yield* GroupCommit
      const trimEvery = Math.ceil(self.transitionsKeep / 10)
      let failures = 0
      while (self.ended === undefined && self.latest !== undefined && self.latest.version > self.persisted) {
        // Always the newest snapshot: a later one may succeed where an earlier one could not.
        const item = self.latest
        const activity = self.activity ?? []
        const transitions = self.transitions ?? []
        const beat = self.beat
        self.activity = undefined
        self.transitions = undefined
        self.beat = undefined
        const trim = self.untrimmed + transitions.length >= trimEvery
        // One transaction with the snapshot: its activity, trim and transitions (answered at commit).
        const written = yield* groupCommit
          .write({
            agentId: self.agentId,
            version: item.version,
            projection: item.projection,
            snapshot: item.snapshot,
            activity,
            transitions,
            beat,
            pruneTo: trim ? Math.max(0, self.transitionsKeep - transitions.length) : undefined
          })
          // A queued write commits whatever its caller does: the caller waits for its answer.
          .pipe(Effect.uninterruptible, Effect.either)
        if (written._tag === "Left" && written.left._tag === "SnapshotWriteRefused") {
          // Stale: another runner stored this version or a newer one (or the row is gone).
          if (written.left.reason === "stale") {
            yield* Effect.logWarning(`agent ${self.agentId}: snapshot ${item.version} not saved, the database holds an equal or newer version`)
            self.end(written.left)
            self.onStale?.(self.agentId)
          }
          break
        }
        if (written._tag === "Left") {
          self.activity = [...activity, ...(self.activity ?? [])]
          self.transitions = [...transitions, ...(self.transitions ?? [])]
          self.beat ??= beat
          // Closed while the write was under way: nothing to retry, no delay.
          if (self.ended !== undefined) break
          yield* Effect.logError(`persisting agent ${self.agentId} failed (attempt ${failures + 1}); retrying`, written.left)
          // A close ends the wait at once.
          self.woken = Deferred.unsafeMake<void>(FiberId.none)
          yield* Effect.raceFirst(Effect.sleep(retryDelay(failures++)), Deferred.await(self.woken))
          self.woken = undefined
          continue
        }
        failures = 0
        self.untrimmed = trim ? 0 : self.untrimmed + transitions.length
        const offeredAt = self.offeredAt ?? []
        observeEventToPersist(offeredAt.splice(0, item.version - self.persisted))
        if (offeredAt.length === 0) self.offeredAt = undefined
        self.persisted = item.version
        // Saved: nothing newer was offered meanwhile, so the writer keeps no snapshot.
        if (self.latest === item) self.latest = undefined
        const waiters = self.waiters ?? []
        const due = waiters.filter((w) => w.version <= item.version)
        const waiting = waiters.filter((w) => w.version > item.version)
        self.waiters = waiting.length === 0 ? undefined : waiting
        for (const waiter of due) yield* Deferred.succeed(waiter.done, undefined)
      }
    }).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          this.writing = false
          if (this.drained !== undefined) {
            Deferred.unsafeDone(this.drained, Exit.void)
            this.drained = undefined
          }
          // An offer may land between the loop's last check and here: drain again.
          if (this.ended === undefined && this.latest !== undefined && this.latest.version > this.persisted) {
            this.writing = true
            this.run(this.drain(), this.agentId)
          }
        })
      )
    )
  }
}
