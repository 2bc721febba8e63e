import { Cause, Deferred, Duration, Effect, Exit, FiberId, Option } from "effect"
import type { ActivityEntry } from "../store/ActivityRepo.ts"
import { observeEventToPersist } from "../observability/agentMetrics.ts"
import type { NewTransition } from "../store/TransitionRepo.ts"
import type { AgentProjection } from "../agents/agentProjection.ts"
import { tracesExported } from "../observability/tracing.ts"
import { GroupCommit, SnapshotWriteRefused, type AgentWrite, type GroupCommitShape } from "./GroupCommit.ts"
import { isBeat } from "./isBeat.ts"
import { PersistWaiters, type PersistWaiter } from "./PersistWaiters.ts"

interface Pending {
  readonly version: number
  readonly snapshot: unknown
  readonly projection: AgentProjection
}

/** Delay before the next attempt of a failed write: 100 ms doubling to 5 s. */
const retryDelay = (failures: number) => Duration.millis(Math.min(5_000, 100 * 2 ** failures))

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
 * `SnapshotWriteRefused`; a stale refusal of a writer not yet ended calls `onStale` so the
 * owner can reload the agent (docs/architecture.md §11), a closed writer's never does.
 *
 * A write takes no fiber of its own: it is queued in the group commit at once and its outcome
 * handled in a callback (docs/architecture.md §6.5); `run` serves the first write (which learns
 * the group commit), logging, retries, and every write while spans are exported.
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
  private waiters: Array<PersistWaiter> | undefined
  /** The group commit, once a write has learnt it (unset while spans are exported: each write is then a fiber with its span). */
  private commits: GroupCommitShape | undefined
  /** Set once the writer has ended: why. */
  private ended: SnapshotWriteRefused | undefined
  /** Exists while writing and someone waits for it to end (`close`). */
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

  /** `run` forks an effect of `agentId`'s writer: a write, a log line, a retry (one function may serve every writer). */
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
    const waiters = this.waiters
    this.waiters = undefined
    PersistWaiters.fail(waiters, reason)
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
      this.startWriting()
    }
    return this.version
  }

  /**
   * Completes once the snapshot of `version` (or a later one) is in the database; fails with
   * `SnapshotWriteRefused` if the writer ended before. With `within`, fails with its
   * `onTimeout()` after `ms` (a timer of its own, not the Effect clock) unless settled before.
   */
  awaitPersisted<E = never>(version: number, within?: { readonly ms: number; readonly onTimeout: () => E }): Effect.Effect<void, SnapshotWriteRefused | E> {
    // Its host is made per wait: an idle writer keeps nothing for its waits.
    const enter = (waiter: PersistWaiter) => {
      if (this.persisted >= version) return Exit.void
      if (this.ended !== undefined) return Exit.fail(this.ended)
      this.waiters ??= []
      this.waiters.push(waiter)
      return undefined
    }
    return PersistWaiters.await({ enter, leave: (waiter) => void (this.waiters = PersistWaiters.without(this.waiters, waiter)) }, version, within)
  }

  /** Whether a snapshot is offered and not yet saved (and the writer may still save it). */
  private get due(): boolean {
    return this.ended === undefined && this.latest !== undefined && this.latest.version > this.persisted
  }

  /**
   * Starts writing (`writing` is set): through a fiber the first time, which learns the
   * `GroupCommit`; after that without one, unless spans are exported (then each write is a
   * fiber with its span, docs/operations.md "Tracing").
   */
  private startWriting(): void {
    const commits = this.commits
    if (commits !== undefined) return this.next(commits, 0)
    this.run(
      Effect.flatMap(Effect.all([GroupCommit, tracesExported]), ([groupCommit, traced]) =>
        Effect.suspend(() => {
          if (!traced) this.commits = groupCommit
          if (!traced) return Effect.sync(() => this.next(groupCommit, 0))
          return Effect.async<void>((resume) => this.next(groupCommit, 0, () => resume(Effect.void)))
        })
      ),
      this.agentId
    )
  }

  /** Writes the newest snapshot if one is due, else stops writing (and `onIdle`, if given, is called). */
  private next(commits: GroupCommitShape, failures: number, onIdle?: () => void): void {
    if (!this.due) {
      this.writing = false
      if (this.drained !== undefined) {
        Deferred.unsafeDone(this.drained, Exit.void)
        this.drained = undefined
      }
      return onIdle?.()
    }
    // Always the newest snapshot: a later one may succeed where an earlier one could not.
    const item = this.latest!
    const activity = this.activity ?? []
    const transitions = this.transitions ?? []
    const beat = this.beat
    this.activity = undefined
    this.transitions = undefined
    this.beat = undefined
    const trim = this.untrimmed + transitions.length >= Math.ceil(this.transitionsKeep / 10)
    // One transaction with the snapshot: its activity, trim and transitions (answered at commit).
    const write = { agentId: this.agentId, version: item.version, projection: item.projection, snapshot: item.snapshot, activity, transitions, beat, pruneTo: trim ? Math.max(0, this.transitionsKeep - transitions.length) : undefined }
    commits.enqueue(write, (exit) => {
      if (Exit.isSuccess(exit)) return this.saved(commits, item, transitions.length, trim, onIdle)
      // Interrupted (the group commit shut down): nothing more is written, and waiters fail.
      if (Cause.isInterruptedOnly(exit.cause)) {
        this.end(new SnapshotWriteRefused({ agentId: this.agentId, version: item.version, reason: "withdrawn" }))
        return this.stop(onIdle)
      }
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure) && failure.value._tag === "SnapshotWriteRefused") {
        // Stale: another runner stored this version or a newer one (or the row is gone). Withdrawn: closed.
        // A writer that had ended (closed) is no owner any more: the agent may run again under a
        // new writer, which its stale refusal must not reload (docs/architecture.md §11).
        if (failure.value.reason === "stale" && this.ended === undefined) {
          this.run(Effect.logWarning(`agent ${this.agentId}: snapshot ${item.version} not saved, the database holds an equal or newer version`), this.agentId)
          this.end(failure.value)
          this.onStale?.(this.agentId)
        }
        return this.next(commits, 0, onIdle)
      }
      // A database error or a defect of the write: retried, its changes kept.
      const error = Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)
      this.activity = [...activity, ...(this.activity ?? [])]
      this.transitions = [...transitions, ...(this.transitions ?? [])]
      this.beat ??= beat
      // Closed while the write was under way: nothing to retry, no delay.
      if (this.ended !== undefined) return this.next(commits, 0, onIdle)
      this.run(this.retryAfter(commits, error, failures, onIdle), this.agentId)
    })
  }

  /** Stops writing for good (the group commit shut down). */
  private stop(onIdle: (() => void) | undefined): void {
    this.writing = false
    if (this.drained !== undefined) {
      Deferred.unsafeDone(this.drained, Exit.void)
      this.drained = undefined
    }
    onIdle?.()
  }

  /** The write of `item` committed: waiters up to its version are released, then the next write. */
  private saved(commits: GroupCommitShape, item: Pending, transitions: number, trim: boolean, onIdle: (() => void) | undefined): void {
    this.untrimmed = trim ? 0 : this.untrimmed + transitions
    const offeredAt = this.offeredAt ?? []
    observeEventToPersist(offeredAt.splice(0, item.version - this.persisted))
    if (offeredAt.length === 0) this.offeredAt = undefined
    this.persisted = item.version
    // Saved: nothing newer was offered meanwhile, so the writer keeps no snapshot.
    if (this.latest === item) this.latest = undefined
    PersistWaiters.release(this.waiters, item.version, (waiting) => (this.waiters = waiting))
    this.next(commits, 0, onIdle)
  }

  /** After a failed write: logs it, waits (100 ms doubling to 5 s; a close ends the wait at once), then writes again. */
  private retryAfter(commits: GroupCommitShape, error: unknown, failures: number, onIdle: (() => void) | undefined): Effect.Effect<void> {
    return Effect.gen(this, function* () {
      yield* Effect.logError(`persisting agent ${this.agentId} failed (attempt ${failures + 1}); retrying`, error)
      // Closed while it logged: no delay.
      if (this.ended !== undefined) return this.next(commits, 0, onIdle)
      this.woken = Deferred.unsafeMake<void>(FiberId.none)
      yield* Effect.raceFirst(Effect.sleep(retryDelay(failures)), Deferred.await(this.woken))
      this.woken = undefined
      this.next(commits, failures + 1, onIdle)
    })
  }
}
