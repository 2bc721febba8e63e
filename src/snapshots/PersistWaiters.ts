import { Effect, type Exit } from "effect"
import type { SnapshotWriteRefused } from "./GroupCommit.ts"

/** One wait for a version to be saved: `done` once, with the writer's end as `failure` if it ended first. */
export interface PersistWaiter {
  readonly version: number
  readonly done: (failure: SnapshotWriteRefused | undefined) => void
}

/** How a wait meets its writer: `enter` settles it at once (an Exit) or adds the waiter (undefined); `leave` removes it. */
export interface WaiterHost {
  readonly enter: (waiter: PersistWaiter) => Exit.Exit<void, SnapshotWriteRefused> | undefined
  readonly leave: (waiter: PersistWaiter) => void
}

/**
 * The per-caller waits of one `SnapshotWriter` for its versions to be saved. The writer keeps them
 * as a plain array that exists only while it has members (`undefined` when none): a fleet holds one
 * writer per agent, nearly all idle (docs/architecture.md §6.5).
 */
export const PersistWaiters = {
  /**
   * Completes once the host's `enter` settles the wait or the waiter is `done`; fails with
   * `SnapshotWriteRefused` if the writer ended first. With `within`, fails with its `onTimeout()`
   * after `ms` (a timer of its own, not the Effect clock, unref'd) unless settled before; a
   * timeout or an interruption `leave`s the host.
   */
  await<E = never>(host: WaiterHost, version: number, within?: { readonly ms: number; readonly onTimeout: () => E }): Effect.Effect<void, SnapshotWriteRefused | E> {
    // Checked and enqueued in one synchronous step (the registration), so a write settling in between is not missed.
    return Effect.async<void, SnapshotWriteRefused | E>((resume) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const waiter: PersistWaiter = {
        version,
        done: (failure) => {
          if (timer !== undefined) clearTimeout(timer)
          resume(failure === undefined ? Effect.void : Effect.fail(failure))
        }
      }
      const settled = host.enter(waiter)
      if (settled !== undefined) return resume(settled)
      if (within !== undefined) {
        timer = setTimeout(() => {
          host.leave(waiter)
          resume(Effect.fail(within.onTimeout()))
        }, within.ms)
        // A wait never holds the process open at shutdown (closing the writer ends it anyway).
        timer.unref()
      }
      return Effect.sync(() => {
        if (timer !== undefined) clearTimeout(timer)
        host.leave(waiter)
      })
    })
  },

  /** `waiters` without `waiter` (undefined once empty). */
  without(waiters: Array<PersistWaiter> | undefined, waiter: PersistWaiter): Array<PersistWaiter> | undefined {
    const at = waiters?.indexOf(waiter) ?? -1
    if (at === -1) return waiters
    waiters!.splice(at, 1)
    return waiters!.length === 0 ? undefined : waiters
  },

  /**
   * Answers the waiters of versions up to `saved`, after handing those still waiting (undefined
   * if none) to `keep`, so a wait that starts from an answer joins the kept list.
   */
  release(waiters: Array<PersistWaiter> | undefined, saved: number, keep: (waiting: Array<PersistWaiter> | undefined) => void): void {
    if (waiters === undefined) return
    const due = waiters.filter((w) => w.version <= saved)
    const waiting = waiters.filter((w) => w.version > saved)
    keep(waiting.length === 0 ? undefined : waiting)
    for (const waiter of due) waiter.done(undefined)
  },

  /** Fails every waiter with `reason`. */
  fail(waiters: Array<PersistWaiter> | undefined, reason: SnapshotWriteRefused): void {
    for (const waiter of waiters ?? []) waiter.done(reason)
  }
}
