import { Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Schema } from "effect"
import { RemoteFailure } from "./RemoteFailure.ts"

/** Creates an agent on the owner (`NewAgentRequest` as JSON); answers its persisted snapshot once durable. */
export const CreateRpc = Rpc.make("Create", { payload: { request: Schema.Unknown }, success: Schema.Unknown, error: RemoteFailure })

/** Sends an event to an agent's actor on the owner; answers the persisted snapshot it produced, once durable. */
export const SendRpc = Rpc.make("Send", { payload: { agentId: Schema.String, event: Schema.Unknown }, success: Schema.Unknown, error: RemoteFailure })

/** The agent's current persisted snapshot on the owner, once durable (what `waitFor` polls from another runner). */
export const SnapshotRpc = Rpc.make("Snapshot", { payload: { agentId: Schema.String }, success: Schema.Unknown, error: RemoteFailure })

/** A gateway RPC made on the owner's socket (the one socket of that gateway in the cluster); answers its raw result. */
export const CallRpc = Rpc.make("Call", {
  payload: { op: Schema.Literal("call", "connect", "forget"), method: Schema.String, params: Schema.Unknown, timeoutMs: Schema.optional(Schema.Number) },
  success: Schema.Unknown,
  error: RemoteFailure
})

/** The liveness watcher's status of the gateway on its owner (docs/operations.md §8); null when none watches it there. */
export const LivenessRpc = Rpc.make("Liveness", { success: Schema.Unknown })

/**
 * Restarts the gateway's per-gateway programs on its owner (the liveness watcher), e.g. after
 * its URL or token changed; no-op where nothing runs.
 */
export const RestartProgramsRpc = Rpc.make("RestartPrograms")

/**
 * Asks the owner to look at the gateway's per-gateway work again (`OwnerNudges`: a template-sync
 * job queued, or the gateway marked deleting, through another runner); no-op where nobody listens.
 */
export const NudgeRpc = Rpc.make("Nudge", { payload: { topic: Schema.Literal("sync", "deleting") } })

/**
 * Lets a deleted gateway go on its owner: when its row is gone, ends its per-gateway programs,
 * stops its actors, closes its socket and forgets its liveness status; the entity stays, hosting
 * nothing. No-op while the row is stored (docs/architecture.md §11).
 */
export const RetireRpc = Rpc.make("Retire")

/** Activates the gateway on its owner (restores its actors, starts its per-gateway work); no-op once active. */
export const EnsureRpc = Rpc.make("Ensure")

/**
 * One gateway of the fleet as a cluster entity, keyed by gateway id: its owner runner hosts the
 * gateway's agent actors, its one socket and its per-gateway work (docs/architecture.md
 * "Cluster"). Messages are volatile: a `Send` is answered only once its snapshot is in Postgres,
 * so an answered event is never lost without writing it twice.
 */
export const GatewayEntity = Entity.make("Gateway", [CreateRpc, SendRpc, SnapshotRpc, CallRpc, EnsureRpc, LivenessRpc, RestartProgramsRpc, NudgeRpc, RetireRpc])
