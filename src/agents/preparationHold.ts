import { Clock, Deferred, Duration, Effect, Exit, FiberId } from "effect"

/**
 * How long a batch may wait for agents that are still preparing, after its window closes, ms:
 * at most `maxMs` in all, and no longer than `stallMs` without any preparation finishing. A
 * burst keeps finishing creates (one every 0.3–3.4 s on a real gateway) and so keeps its batch
 * together; an agent whose call hangs stops the progress, and the others' entries go out.
 */
export interface HoldLimits {
  readonly stallMs: number
  readonly maxMs: number
}

export const DEFAULT_HOLD: HoldLimits = { stallMs: 5_000, maxMs: 15_000 }
/**
 * After the last preparation on a gateway finishes, how long the batch stays open for that
 * agent's own request, which follows its preparation at once, ms.
 */
const SETTLE_MS = 2

/**
 * The agents preparing on each gateway (`AgentConfigBatcher.preparing`), and the wait of a full
 * batch before it is sent (`beforeFlush`): `windowMs` at most, closed early once no agent is
 * preparing, then held while agents are still preparing and progressing (`hold`), unless
 * released (docs/architecture.md §5.6).
 */
export const makePreparationHold = (windowMs: number, hold: HoldLimits) => {
  const preparingCount = new Map<string, number>()
  const preparing = (gatewayId: string) => preparingCount.get(gatewayId) ?? 0
  /** When a preparation on the gateway last finished (Clock ms). */
  const lastFinished = new Map<string, number>()

  /** Completes when the next preparation on the gateway finishes (a signal: nothing polls). */
  const finishing = new Map<string, Deferred.Deferred<void>>()
  const nextFinish = (gatewayId: string) => {
    let next = finishing.get(gatewayId)
    if (next === undefined) {
      next = Deferred.unsafeMake<void>(FiberId.none)
      finishing.set(gatewayId, next)
    }
    return Deferred.await(next)
  }
  const finished = (gatewayId: string) => {
    const next = finishing.get(gatewayId)
    finishing.delete(gatewayId)
    if (next !== undefined) Deferred.unsafeDone(next, Exit.void)
  }
  /** Completes once no agent on the gateway is preparing, woken by each preparation that finishes. */
  const idle = (gatewayId: string): Effect.Effect<void> =>
    Effect.suspend(() => (preparing(gatewayId) === 0 ? Effect.void : Effect.zipRight(nextFinish(gatewayId), idle(gatewayId))))

  /** After the window, hold while agents on the gateway are still preparing and progressing (see `HoldLimits`). */
  const holdForPreparing = (gatewayId: string) =>
    Effect.gen(function* () {
      const since = yield* Clock.currentTimeMillis
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        const progressed = Math.max(since, lastFinished.get(gatewayId) ?? 0)
        const quiet = hold.stallMs - (now - progressed)
        if (preparing(gatewayId) === 0 || quiet <= 0) return
        // Woken by the next preparation to finish, or when progress has stalled.
        yield* Effect.raceFirst(nextFinish(gatewayId), Effect.sleep(Duration.millis(quiet)))
      }
    }).pipe(Effect.timeout(Duration.millis(hold.maxMs)), Effect.ignore)

  return {
    /**
     * A batch closes after the window, or earlier once the agents that were preparing on the
     * gateway have all finished (their requests follow at once: nothing else is coming); then it
     * is held while agents are still preparing (`holdForPreparing`), unless a `prompt` request
     * has joined (`release`): a sync's other places keep preparing, so an entry passed on by a
     * quick batch would otherwise wait out `maxMs` (a provisioning wave's requests are not prompt).
     * Interruptible, even when started from an uninterruptible region (a race interrupts its loser).
     */
    beforeFlush: (gatewayId: string, release: Deferred.Deferred<void>): Effect.Effect<void> =>
      Effect.raceFirst(
        Effect.sleep(Duration.millis(windowMs)),
        preparing(gatewayId) === 0 ? Effect.never : Effect.zipRight(idle(gatewayId), Effect.sleep(Duration.millis(Math.min(SETTLE_MS, windowMs))))
      ).pipe(
        Effect.zipRight(Effect.suspend(() => (preparing(gatewayId) > 0 ? Effect.raceFirst(holdForPreparing(gatewayId), Deferred.await(release)) : Effect.void))),
        Effect.interruptible
      ),
    /** Runs `steps` counted as a preparation on the gateway (`AgentConfigBatcher.preparing`). */
    preparing: <A, E, R>(gatewayId: string, steps: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.acquireUseRelease(
        Effect.sync(() => preparingCount.set(gatewayId, preparing(gatewayId) + 1)),
        () => steps,
        () =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.sync(() => {
              preparingCount.set(gatewayId, preparing(gatewayId) - 1)
              lastFinished.set(gatewayId, now)
              finished(gatewayId)
            })
          )
      )
  }
}
