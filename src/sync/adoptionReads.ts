import { Effect } from "effect"

/**
 * How often the unfinished jobs are read when nothing asked for it sooner (ms): the fallback for
 * a nudge that was lost (docs/operations.md §7.1).
 */
export const ADOPT_READ_EVERY_MS = 30_000

/**
 * When the template-sync adoption reads the unfinished jobs (docs/architecture.md §9.2): on its
 * first pass, at a takeover (`ownedShardsKey` changed), after `nudge` (a job queued through
 * another runner, or here), or every ADOPT_READ_EVERY_MS (a job left because its gateway's agents
 * were not restored here yet waits in memory, not in a read); a settled runner's other passes send
 * no statement. `read` wraps the read: one that a nudge overtook (or that failed) leaves the
 * next pass due. `now`: monotonic ms (`performance.now()` by default: a step of the wall clock
 * neither delays nor hastens a read).
 */
export const makeAdoptionReads = (ownedShardsKey: () => string, now: () => number = () => performance.now()) => {
  /** When the last read that counts began, and the set of shards then. */
  let last: { readonly at: number; readonly shards: string } | undefined
  /** Counts `nudge`s: a read begun before one does not count. */
  let nudges = 0
  return {
    due: (): boolean => last === undefined || last.shards !== ownedShardsKey() || now() - last.at >= ADOPT_READ_EVERY_MS,
    read: <A, E, R>(read: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.suspend(() => {
        const begun = { at: now(), shards: ownedShardsKey() }
        const nudgesBefore = nudges
        return Effect.tap(read, () => Effect.sync(() => void (last = nudges === nudgesBefore ? begun : undefined)))
      }),
    nudge: (): void => {
      nudges += 1
      last = undefined
    }
  }
}
