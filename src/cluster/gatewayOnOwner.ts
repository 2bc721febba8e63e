import { Sharding } from "@effect/cluster"
import { Data, Effect } from "effect"
import { GatewayEntity } from "./GatewayEntity.ts"

/** How long a request to a gateway's owner may take before it counts as unavailable. */
const OWNER_REQUEST_TIMEOUT_MS = 10_000

/** The runner that owns a stored gateway did not answer in time (it is moving, or down): retry shortly. */
export class GatewayOwnerUnavailable extends Data.TaggedError("GatewayOwnerUnavailable")<{ readonly gatewayId: string; readonly message: string }> {}

const unavailable = (gatewayId: string, why: string) =>
  new GatewayOwnerUnavailable({ gatewayId, message: `the runner that owns gateway ${gatewayId} did not answer (${why})` })

/**
 * The liveness watcher's status of a stored gateway, read on its owner wherever this runs (the
 * entity's `Liveness`): the status as the owner keeps it, or null when no watcher runs for it.
 * Only for a stored gateway: a message activates the gateway's entity. Fails with
 * `GatewayOwnerUnavailable` after 10 s (docs/architecture.md §11).
 */
export const ownerLiveness = (gatewayId: string): Effect.Effect<unknown, GatewayOwnerUnavailable, Sharding.Sharding> =>
  Effect.flatMap(Sharding.Sharding, (sharding) => sharding.makeClient(GatewayEntity)).pipe(
    Effect.flatMap((client) => client(gatewayId).Liveness()),
    Effect.timeoutFail({ duration: OWNER_REQUEST_TIMEOUT_MS, onTimeout: () => unavailable(gatewayId, `no answer within ${OWNER_REQUEST_TIMEOUT_MS} ms`) }),
    Effect.catchAll((error) => (error._tag === "GatewayOwnerUnavailable" ? Effect.fail(error) : Effect.fail(unavailable(gatewayId, error._tag))))
  )

/**
 * Restarts a stored gateway's per-gateway programs (its liveness watcher) on its owner, so they
 * read its URL and token again after a change (the entity's `RestartPrograms`). Fails with
 * `GatewayOwnerUnavailable` after 10 s (docs/architecture.md §11).
 */
export const restartGatewayPrograms = (gatewayId: string): Effect.Effect<void, GatewayOwnerUnavailable, Sharding.Sharding> =>
  Effect.flatMap(Sharding.Sharding, (sharding) => sharding.makeClient(GatewayEntity)).pipe(
    Effect.flatMap((client) => client(gatewayId).RestartPrograms()),
    Effect.timeoutFail({ duration: OWNER_REQUEST_TIMEOUT_MS, onTimeout: () => unavailable(gatewayId, `no answer within ${OWNER_REQUEST_TIMEOUT_MS} ms`) }),
    Effect.catchAll((error) => (error._tag === "GatewayOwnerUnavailable" ? Effect.fail(error) : Effect.fail(unavailable(gatewayId, error._tag))))
  )
