import { Effect } from "effect"

/** How often gateways being deleted are swept while this runner owns one (docs/architecture.md §9.1). */
export const SWEEP_EVERY_MS = 2_000
/**
 * How long a runner that found no deleting gateway of its own reads them again at the latest,
 * when no takeover and no nudge came first (a delete asked here, or on another runner, which
 * nudges the owner): the fallback for a nudge that was lost (docs/architecture.md §9.1).
 */
export const IDLE_READ_EVERY_MS = 60_000

/** What one deletion sweep needs: the stored deleting gateway ids, the ownership, and one reap step. */
export interface DeletionSweepDeps<E, R> {
  /** Whether the agent system is ready (a restoring one is not swept). */
  readonly ready: Effect.Effect<boolean>
  /** Ids of the gateways marked deleting, oldest first (one statement). */
  readonly deleting: Effect.Effect<ReadonlyArray<string>, E>
  readonly owns: (gatewayId: string) => boolean
  /** The set of shards this runner holds now, as a key (`GatewayOwnership.ownedShardsKey`): a change is a takeover. */
  readonly ownedShardsKey: () => string
  /** One reap step of a deleting gateway (its errors are logged, and the next pass tries again). */
  readonly reap: (gatewayId: string) => Effect.Effect<unknown, unknown, R>
  /** Monotonic ms; `performance.now()` when absent (a step of the wall clock neither delays nor hastens a read). */
  readonly now?: () => number
}

/**
 * The gateway deletion sweep (docs/architecture.md §9.1): `pass`, run every SWEEP_EVERY_MS,
 * reaps each deleting gateway this runner owns. While it owns none it reads them again only at a
 * takeover (its set of shards changed), after `nudge` (a delete asked here or on another runner), or every
 * IDLE_READ_EVERY_MS, so a settled runner sends no statement on most passes. Errors of the read
 * are logged; `pass` never fails.
 */
export const makeDeletionSweep = <E, R>(deps: DeletionSweepDeps<E, R>) => {
  const now = deps.now ?? (() => performance.now())
  /** When the last read found none owned here, and the set of shards then. */
  let idleSince: { readonly at: number; readonly shards: string } | undefined
  /** Counts `nudge`s: a read that a nudge overtook does not make the sweep quiet. */
  let nudges = 0

  const pass = Effect.gen(function* () {
    if (!(yield* deps.ready)) return
    const shards = deps.ownedShardsKey()
    const at = now()
    if (idleSince !== undefined && idleSince.shards === shards && at - idleSince.at < IDLE_READ_EVERY_MS) return
    const nudgesBefore = nudges
    // A deleting gateway is reaped by its owner only (docs/architecture.md "Cluster").
    const owned = (yield* deps.deleting).filter(deps.owns)
    idleSince = owned.length === 0 && nudges === nudgesBefore ? { at, shards } : undefined
    for (const id of owned) {
      yield* deps.reap(id).pipe(
        Effect.catchAll((error) => Effect.logWarning(`deleting gateway ${id}: ${(error as { _tag?: string })._tag ?? String(error)}; trying again shortly`))
      )
    }
  }).pipe(Effect.catchAll((error) => Effect.logWarning("gateway deletion sweep failed", error)))

  /** The next pass reads the deleting gateways (a delete was asked here, or on another runner: `OwnerNudges`). */
  const nudge = (): void => {
    nudges += 1
    idleSince = undefined
  }

  return { pass, nudge }
}
