import { Sharding } from "@effect/cluster"
import { Data, Effect } from "effect"
import { GatewayEntity } from "./GatewayEntity.ts"
import type { NudgeTopic } from "./OwnerNudges.ts"

/** How long a request to a gateway's owner may take before it counts as unavailable. */
const OWNER_REQUEST_TIMEOUT_MS = 10_000

/** The runner that owns a stored gateway did not answer in time (it is moving, or down): retry shortly. */
export class GatewayOwnerUnavailable extends Data.TaggedError("GatewayOwnerUnavailable")<{ readonly gatewayId: string; readonly message: string }> {}

const unavailable = (gatewayId: string, why: string) =>
  new GatewayOwnerUnavailable({ gatewayId, message: `the runner that owns gateway ${gatewayId} did not answer (${why})` })

const entityClient = Effect.flatMap(Sharding.Sharding, (sharding) => sharding.makeClient(GatewayEntity))
type OwnerRequest<A> = (entity: ReturnType<Effect.Effect.Success<typeof entityClient>>) => Effect.Effect<A, { readonly _tag: string }>

/** One request to the gateway's entity on its owner, bounded by OWNER_REQUEST_TIMEOUT_MS; every failure is `GatewayOwnerUnavailable`. */
const onOwner = <A>(gatewayId: string, request: OwnerRequest<A>): Effect.Effect<A, GatewayOwnerUnavailable, Sharding.Sharding> =>
  entityClient.pipe(
    Effect.flatMap((client) => request(client(gatewayId))),
    Effect.timeoutFail({ duration: OWNER_REQUEST_TIMEOUT_MS, onTimeout: () => unavailable(gatewayId, `no answer within ${OWNER_REQUEST_TIMEOUT_MS} ms`) }),
    Effect.catchAll((error) => (error._tag === "GatewayOwnerUnavailable" ? Effect.fail(error as GatewayOwnerUnavailable) : Effect.fail(unavailable(gatewayId, error._tag))))
  )

/**
 * The liveness watcher's status of a stored gateway, read on its owner wherever this runs (the
 * entity's `Liveness`): the status as the owner keeps it, or null when no watcher runs for it.
 * Only for a stored gateway: a message activates the gateway's entity. Fails with
 * `GatewayOwnerUnavailable` after 10 s (docs/architecture.md §11).
 */
export const ownerLiveness = (gatewayId: string): Effect.Effect<unknown, GatewayOwnerUnavailable, Sharding.Sharding> =>
  onOwner(gatewayId, (entity) => entity.Liveness())

/**
 * Restarts a stored gateway's per-gateway programs (its liveness watcher) on its owner, so they
 * read its URL and token again after a change (the entity's `RestartPrograms`). Fails with
 * `GatewayOwnerUnavailable` after 10 s (docs/architecture.md §11).
 */
export const restartGatewayPrograms = (gatewayId: string): Effect.Effect<void, GatewayOwnerUnavailable, Sharding.Sharding> =>
  onOwner(gatewayId, (entity) => entity.RestartPrograms())

/**
 * Nudges a stored gateway's owner to look at its per-gateway work of `topic` again (the entity's
 * `Nudge`, `OwnerNudges`): a template-sync job or a deletion asked through this runner starts
 * there at once instead of at the owner's next slow poll. Fails with `GatewayOwnerUnavailable`
 * after 10 s; callers fork it and log the failure, the poll being the fallback
 * (docs/operations.md §7.1).
 */
export const nudgeOwner = (gatewayId: string, topic: NudgeTopic): Effect.Effect<void, GatewayOwnerUnavailable, Sharding.Sharding> =>
  onOwner(gatewayId, (entity) => entity.Nudge({ topic }))

/**
 * Activates a stored gateway on its owner (the entity's `Ensure`): one registered through any
 * runner is hosted at once rather than at its owner's next read of the stored gateways
 * (`ActivationDriver`). Fails with `GatewayOwnerUnavailable` after 10 s (docs/architecture.md §11).
 */
export const ensureOnOwner = (gatewayId: string): Effect.Effect<void, GatewayOwnerUnavailable, Sharding.Sharding> =>
  onOwner(gatewayId, (entity) => entity.Ensure())

/**
 * Tells a deleted gateway's owner that its row is gone (the entity's `Retire`), whichever runner
 * removed it: the owner ends the gateway's programs and actors, closes its socket and forgets its
 * liveness status. No-op while the row is stored. Fails with `GatewayOwnerUnavailable` after
 * 10 s (docs/architecture.md §11).
 */
export const retireOnOwner = (gatewayId: string): Effect.Effect<void, GatewayOwnerUnavailable, Sharding.Sharding> =>
  onOwner(gatewayId, (entity) => entity.Retire())
