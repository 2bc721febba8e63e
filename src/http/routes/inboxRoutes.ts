import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Redacted } from "effect"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { AppConfig } from "../../config/AppConfig.ts"
import { AgentInbox } from "../../inbox/AgentInbox.ts"
import type { InboxContactNotFound, InboxIdempotencyConflict, InboxMessageNotFound, InboxReportConflict } from "../../inbox/InboxErrors.ts"
import { contactView, polledView } from "../../inbox/inboxViews.ts"
import { setupGuide } from "../../inbox/setupGuide.ts"
import { admin } from "../admin.ts"
import { ApiError, conflict } from "../ApiError.ts"
import { IdParams } from "../contract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { authenticateInbox, requireInboxKey } from "../inboxAuth.ts"
import { AgentIdParams, InboxHeartbeatBody, PollQuery, ReportBody, SendMessageBody } from "../inboxContract.ts"
import { existingAgent } from "../lookups.ts"
import { handle, json } from "../respond.ts"

type InboxError = InboxMessageNotFound | InboxReportConflict | InboxContactNotFound | InboxIdempotencyConflict

const WHERE = { board: "the agents of your board", gateway: "the agents of your gateway", none: "nobody: you are on no board" } as const

/** The inbox's typed failures as answers an agent can act on. */
const answerFailure = (error: InboxError): ApiError => {
  switch (error._tag) {
    case "InboxMessageNotFound":
      return new ApiError({ status: 404, detail: `no message ${error.messageId} in your inbox` })
    case "InboxReportConflict":
      return conflict(
        error.reason === "failed"
          ? `message ${error.messageId} was given up as failed and takes no report`
          : `message ${error.messageId} was already reported with a different result; the first result stands`
      )
    case "InboxContactNotFound":
      return new ApiError({
        status: 404,
        detail: `no agent named exactly "${error.name}" among your contacts (${WHERE[error.scope]}); see contacts in GET /api/gateway/poll`
      })
    case "InboxIdempotencyConflict":
      return conflict(`idempotency_key "${error.idempotencyKey}" was already used for a different message`)
  }
}

const INBOX_ERRORS: ReadonlySet<string> = new Set(["InboxMessageNotFound", "InboxReportConflict", "InboxContactNotFound", "InboxIdempotencyConflict"])
const isInboxError = <E>(error: E): error is Extract<E, InboxError> =>
  typeof error === "object" && error !== null && "_tag" in error && INBOX_ERRORS.has(String(error._tag))

const inbox = <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.catchIf(body, isInboxError<E>, (error) => Effect.fail(answerFailure(error)))

/** A secret in the body: never cached on the way. */
const once = (body: unknown) => HttpServerResponse.unsafeJson(body, { status: 201, headers: { "cache-control": "no-store" } })

/**
 * The agent inbox (docs/operations.md §6.16), `X-Api-Key` auth: poll leases messages
 * (at least once), report is idempotent and routes replies, send-message reaches contacts by
 * exact name only. Handlers validate and call AgentInbox (or send `agent.heartbeat`).
 */
export const inboxRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/agents/:id/api-key",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const issued = yield* Effect.flatMap(AgentInbox, (service) => service.issueKey(id))
        return once({ agent_id: id, api_key: Redacted.value(issued.key), rotated: issued.rotated, created_at: issued.createdAt.toISOString() })
      })
    )
  ),
  HttpRouter.get(
    "/api/gateway/poll",
    handle(
      Effect.gen(function* () {
        const agentId = yield* requireInboxKey
        const query = yield* decodeQuery(PollQuery)
        const polled = yield* Effect.flatMap(AgentInbox, (service) => service.poll(agentId, query.limit))
        return json({ agent_id: agentId, lease_ms: polled.leaseMs, messages: polled.messages.map(polledView), contacts: polled.contacts.map(contactView) })
      })
    )
  ),
  HttpRouter.post(
    "/api/gateway/report",
    handle(
      inbox(
        Effect.gen(function* () {
          const agentId = yield* requireInboxKey
          const body = yield* decodeBody(ReportBody)
          const reported = yield* Effect.flatMap(AgentInbox, (service) => service.report(agentId, body.message_id, body.result))
          return json({ status: "ok", message_id: body.message_id, replayed: reported.replayed, reply_message_id: reported.replyMessageId })
        })
      )
    )
  ),
  HttpRouter.post(
    "/api/gateway/heartbeat",
    handle(
      Effect.gen(function* () {
        const agentId = yield* requireInboxKey
        const body = yield* decodeBody(InboxHeartbeatBody)
        const at = yield* Clock.currentTimeMillis
        yield* Effect.flatMap(AgentSystem, (system) => system.send(agentId, { type: "agent.heartbeat", at, status: body.status }))
        return json({ status: "ok", agent_id: agentId })
      })
    )
  ),
  HttpRouter.post(
    "/api/gateway/send-message",
    handle(
      inbox(
        Effect.gen(function* () {
          const agentId = yield* requireInboxKey
          const body = yield* decodeBody(SendMessageBody)
          const sent = yield* Effect.flatMap(AgentInbox, (service) =>
            service.send(agentId, { to: body.to, content: body.content, idempotencyKey: body.idempotency_key })
          )
          return json({ status: "accepted", message_id: sent.messageId, to: contactView(sent.target), replayed: sent.replayed }, 202)
        })
      )
    )
  ),
  HttpRouter.get(
    "/api/gateway/setup-guide/:agent_id",
    handle(
      Effect.gen(function* () {
        const caller = yield* authenticateInbox
        const { agent_id } = yield* decodeParams(AgentIdParams)
        if (caller.kind === "inbox" && caller.agentId !== agent_id) {
          return yield* new ApiError({ status: 403, detail: "an inbox key opens only its own agent's setup guide" })
        }
        const agent = yield* existingAgent(agent_id)
        const config = yield* AppConfig
        return json(yield* setupGuide({ agentName: agent.name, agentId: agent.id, baseUrl: config.baseUrl, leaseMs: config.inboxLeaseMs }))
      })
    )
  )
)
