import { Effect, Either, Option } from "effect"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { loadPinnedGateway } from "../agents/programs/loadGateway.ts"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { describeGatewayError, isGatewayError, isRetargeted, isTransient, type GatewayError } from "../gateway/GatewayError.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentRepo, type AgentRow } from "../store/AgentRepo.ts"
import { MessageRepo, type MessageRow } from "../store/MessageRepo.ts"
import { deliveryActivity } from "./deliveryActivity.ts"
import { actorsRestoring, messageDelivery } from "./deliverySchedule.ts"
import { MessageTargetUnavailable } from "./MessageErrors.ts"

export interface DeliveryOptions {
  /** How long a target that is not yet provisioned on its gateway may take to become so, ms. */
  readonly readyTimeoutMs: number
  /** Per `chat.send` call, ms. */
  readonly callTimeoutMs: number
}

/** The gateway idempotency key of a ledger message: fixed by its id, so every retry, and a resume after a restart, is the same send. */
export const chatIdempotencyKey = (messageId: string) => `msg-${messageId}`

/**
 * Waits until the target has been applied on its gateway once (`workspaceSeeded`): a lead just
 * created for a lead message, say, has no session the gateway would accept before that.
 */
const awaitProvisioned = (agent: AgentRow, timeoutMs: number) =>
  Effect.flatMap(AgentSystem, (system) => system.waitFor(agent.id, (snapshot) => snapshot.context.workspaceSeeded, timeoutMs)).pipe(
    // An actor past its restart budget stays down (§6.8): no 2 min of asking again.
    Effect.retry({ schedule: actorsRestoring, while: (error) => error._tag === "AgentsRestoring" && error.reason !== "actor-failed" }),
    Effect.catchTags({
      // The predicate held; only its snapshot is not saved yet. The gateway has the agent.
      AgentPersistTimeout: () => Effect.void,
      AgentNotFound: () => Effect.fail(new MessageTargetUnavailable({ agentId: agent.id, reason: "gone", message: `agent ${agent.name} was deleted` })),
      AgentWaitTimeout: (timeout) =>
        Effect.fail(
          new MessageTargetUnavailable({
            agentId: agent.id,
            reason: "not_ready",
            message: `agent ${agent.name} was not provisioned on its gateway within ${timeoutMs} ms (it is ${timeout.statePath})`
          })
        ),
      AgentsRestoring: (restoring) => Effect.fail(new MessageTargetUnavailable({ agentId: agent.id, reason: "not_ready", message: restoring.why }))
    }),
    Effect.asVoid
  )

/** Worth another attempt: transient, or the gateway was retargeted under the send (the next attempt reads it anew). */
const retries = (error: unknown): error is GatewayError => isGatewayError(error) && (isTransient(error) || isRetargeted(error))

/**
 * `chat.send` under the message's fixed key, retried on transient errors; each attempt is counted and its error kept.
 * Each attempt reads the gateway's target pinned, so a send the gateway's PATCH overtook is retried on the new
 * url or token, never dropped nor re-sent to the old address (docs/architecture.md §9.1 "Update").
 */
const send = (message: MessageRow, agent: AgentRow, callTimeoutMs: number) =>
  Effect.gen(function* () {
    const repo = yield* MessageRepo
    const client = yield* GatewayClient
    const params = { sessionKey: agent.sessionKey, message: message.body, deliver: message.deliver, idempotencyKey: chatIdempotencyKey(message.id) }
    const once = loadPinnedGateway(agent.gatewayId).pipe(
      Effect.tap(() => repo.recordAttempt(message.id)),
      Effect.flatMap(({ target }) => client.call(target, "chat.send", params, { timeoutMs: callTimeoutMs })),
      Effect.asVoid,
      // A replay after the first run failed (no model credentials, say): the message was taken the first time.
      Effect.catchIf(
        (error) => error._tag === "GatewayRpcError" && error.kind === "chat_run_failed",
        () => Effect.void
      ),
      Effect.tapError((error) => (retries(error) ? repo.recordError(message.id, describeGatewayError(error)) : Effect.void))
    )
    // Timeouts retry here too: the fixed idempotency key makes a send the gateway did take answer `in_flight`.
    yield* Effect.retry(once, { schedule: messageDelivery, while: retries })
  })

/**
 * Delivers one pending gateway-channel message: waits until its target is provisioned, then
 * `chat.send {sessionKey, message, deliver, idempotencyKey: msg-<id>}` with `messageDelivery`
 * retries (a send a PATCH of the gateway's url or token overtook is retried on the new target:
 * at least once), and settles the row `delivered` or `failed` with the reason (a gateway error,
 * `MessageTargetUnavailable`, or `GatewayNotFound`), recording the kind's activity event.
 * Output: the settled row, or none if it was already settled elsewhere. A database failure
 * leaves the row `pending` (resumed at the next start) and fails with SqlError.
 */
export const deliverMessage = Effect.fn("Messages.deliver")(function* (message: MessageRow, options: DeliveryOptions) {
  const repo = yield* MessageRepo
  const agent = yield* Effect.flatMap(AgentRepo, (agents) => agents.get(message.targetAgentId))
  const outcome = Option.isNone(agent)
    ? Either.left(new MessageTargetUnavailable({ agentId: message.targetAgentId, reason: "gone", message: `agent ${message.targetAgentId} was deleted` }))
    : yield* Effect.either(Effect.zipRight(awaitProvisioned(agent.value, options.readyTimeoutMs), send(message, agent.value, options.callTimeoutMs)))
  if (Either.isLeft(outcome) && outcome.left._tag === "SqlError") return yield* outcome.left
  const settled = Either.isRight(outcome)
    ? yield* repo.markDelivered(message.id)
    : yield* repo.markFailed(message.id, isGatewayError(outcome.left) ? describeGatewayError(outcome.left) : outcome.left.message)
  if (Option.isSome(settled) && Option.isSome(agent)) {
    const reason = settled.value.lastError ?? ""
    const entry = deliveryActivity(message.kind, agent.value.name, settled.value.status === "delivered" ? { delivered: true } : { delivered: false, reason })
    if (entry !== undefined) {
      const actor = message.senderAgentId ?? agent.value.id
      yield* Effect.flatMap(ActivityRepo, (activity) => activity.record({ ...entry, agentId: actor, boardId: agent.value.boardId, gatewayId: agent.value.gatewayId }))
    }
  }
  return settled
})
