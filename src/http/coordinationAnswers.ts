import { HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { callerAgent, type Actor } from "../coordination/callerScope.ts"
import type { CoordinationRefused, SoulReadFailed } from "../coordination/CoordinationErrors.ts"
import { MessageLedger, type MessageIdempotencyConflict, type MessageNotFound, type MessageTargetNotFound } from "../messages/MessageLedger.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import type { MessageRow } from "../store/MessageRepo.ts"
import { ApiError, invalid } from "./ApiError.ts"
import { authenticate, requireAgent } from "./auth.ts"
import { IdempotencyKey } from "./gatewayQueryContract.ts"
import { handle, json, type KnownError } from "./respond.ts"

const STATUS = { forbidden: 403, not_found: 404, invalid: 422, conflict: 409 } as const

export type CoordinationFailure = CoordinationRefused | SoulReadFailed | MessageIdempotencyConflict | MessageTargetNotFound | MessageNotFound

const TAGS: ReadonlySet<string> = new Set(["CoordinationRefused", "SoulReadFailed", "MessageIdempotencyConflict", "MessageTargetNotFound", "MessageNotFound"])

const isCoordinationFailure = (error: KnownError | CoordinationFailure): error is CoordinationFailure => TAGS.has(error._tag)

const toApiError = (error: CoordinationFailure): ApiError => {
  switch (error._tag) {
    case "CoordinationRefused":
      return new ApiError({ status: STATUS[error.reason], detail: error.detail })
    case "SoulReadFailed":
      return new ApiError({ status: 502, detail: error.message })
    case "MessageIdempotencyConflict":
      return new ApiError({ status: 409, detail: error.message })
    case "MessageTargetNotFound":
      return new ApiError({ status: 404, detail: error.message })
    case "MessageNotFound":
      return new ApiError({ status: 404, detail: "message not found" })
  }
}

/**
 * The coordination errors as answers: refusals by reason (403 wrong role or board, 404, 422,
 * 409), a replayed key with another message 409, a gateway read 502. Other errors pass through.
 */
export const withCoordinationAnswers = <A, R>(effect: Effect.Effect<A, KnownError | CoordinationFailure, R>): Effect.Effect<A, KnownError, R> =>
  Effect.mapError(effect, (error) => (isCoordinationFailure(error) ? toApiError(error) : error))

/** `Idempotency-Key` if the client sent one: a retry with it sends nothing twice. Absent: every request is a new send. */
export const idempotencyKeyHeader = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const given = request.headers["idempotency-key"]
  if (given === undefined) return Effect.succeed(undefined)
  const parsed = IdempotencyKey.safeParse(given)
  return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(invalid(`invalid Idempotency-Key header: ${parsed.error.issues[0]?.message ?? "invalid"}`))
})

const iso = (date: Date | null) => (date === null ? null : date.toISOString())

/** A ledger message as the API shows it: who, what, and where its delivery stands (`status`, `attempts`, `last_error`). */
export const messageView = (row: MessageRow) => ({
  id: row.id,
  target_agent_id: row.targetAgentId,
  sender: { kind: row.senderKind, agent_id: row.senderAgentId },
  kind: row.kind,
  channel: row.channel,
  body: row.body,
  deliver: row.deliver,
  idempotency_key: row.idempotencyKey,
  status: row.status,
  attempts: row.attempts,
  last_error: row.lastError,
  reply_to: row.replyTo,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
  delivered_at: iso(row.deliveredAt)
})

/**
 * The answer to a send: waits up to `waitMs` for the delivery, then 200 (delivered), 202 (still
 * pending; `GET /api/v1/messages/{id}` shows how it ends) or 502 with the reason (failed;
 * docs/operations.md §6.12). `replayed` says the idempotency key had been used: the
 * earlier message is shown and nothing was sent again.
 */
export const answerSend = (sent: { readonly message: MessageRow; readonly replayed: boolean }, waitMs: number, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const message = waitMs > 0 ? yield* Effect.flatMap(MessageLedger, (ledger) => ledger.awaitSettled(sent.message.id, waitMs)) : sent.message
    const body = { ok: message.status !== "failed", ...extra, replayed: sent.replayed, message: messageView(message) }
    if (message.status === "failed") return json({ ...body, detail: `delivery failed: ${message.lastError ?? "unknown reason"}` }, 502)
    return json(body, message.status === "delivered" ? 200 : 202)
  })

/**
 * An agent-only route (`X-Agent-Token`; docs/operations.md §6.2): 401 without
 * credentials, 403 for the admin token, then `body` with the caller's read model (its role and
 * board are on the row). Coordination errors become answers.
 */
export const asAgent = <R>(body: (caller: AgentRow) => Effect.Effect<HttpServerResponse.HttpServerResponse, KnownError | CoordinationFailure, R>) =>
  handle(withCoordinationAnswers(Effect.flatMap(Effect.flatMap(requireAgent, callerAgent), body)))

/** A route for the admin or an agent (docs/operations.md §6.2); the body decides what each may do. */
export const asActor = <R>(body: (actor: Actor) => Effect.Effect<HttpServerResponse.HttpServerResponse, KnownError | CoordinationFailure, R>) =>
  handle(
    withCoordinationAnswers(
      Effect.flatMap(authenticate, (caller) =>
        caller.kind === "admin" ? body({ kind: "admin" }) : Effect.flatMap(callerAgent(caller.agentId), (agent) => body({ kind: "agent", agent }))
      )
    )
  )
