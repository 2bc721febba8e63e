import { Clock, Effect, Redacted } from "effect"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { AppConfig } from "../../config/AppConfig.ts"
import { ApiError } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { existingAgent } from "../../http/lookups.ts"
import { serve } from "../../http/serve.ts"
import { AgentInbox } from "../AgentInbox.ts"
import { setupGuide } from "../setupGuide.ts"
import { inboxApi } from "./inboxApi.ts"
import { contactView, polledView } from "./InboxView.ts"

/**
 * The handlers of `inboxApi`: poll leases messages (at least once), report is idempotent and
 * routes replies, send-message reaches contacts by exact name only. They validate and call
 * AgentInbox (or send `agent.heartbeat`).
 */
export const inboxHttp = serve(inboxApi, {
  issueInboxKey: ({ params }) =>
    Effect.map(Effect.flatMap(AgentInbox, (service) => service.issueKey(params.id)), (issued) =>
      // A secret in the body: never cached on the way.
      reply(201, { agent_id: params.id, api_key: Redacted.value(issued.key), rotated: issued.rotated, created_at: issued.createdAt.toISOString() }, { "cache-control": "no-store" })
    ),
  inboxPoll: ({ caller, query }) =>
    Effect.map(Effect.flatMap(AgentInbox, (service) => service.poll(caller.agentId, query.limit)), (polled) =>
      reply(200, { agent_id: caller.agentId, lease_ms: polled.leaseMs, messages: polled.messages.map(polledView), contacts: polled.contacts.map(contactView) })
    ),
  inboxReport: ({ caller, body }) =>
    Effect.map(Effect.flatMap(AgentInbox, (service) => service.report(caller.agentId, body.message_id, body.result)), (reported) =>
      reply(200, { status: "ok" as const, message_id: body.message_id, replayed: reported.replayed, reply_message_id: reported.replyMessageId })
    ),
  inboxHeartbeat: ({ caller, body }) =>
    Effect.gen(function* () {
      const at = yield* Clock.currentTimeMillis
      yield* Effect.flatMap(AgentSystem, (system) => system.send(caller.agentId, { type: "agent.heartbeat", at, status: body.status }))
      return reply(200, { status: "ok" as const, agent_id: caller.agentId })
    }),
  inboxSendMessage: ({ caller, body }) =>
    Effect.map(Effect.flatMap(AgentInbox, (service) => service.send(caller.agentId, { to: body.to, content: body.content, idempotencyKey: body.idempotency_key })), (sent) =>
      reply(202, { status: "accepted" as const, message_id: sent.messageId, to: contactView(sent.target), replayed: sent.replayed })
    ),
  inboxSetupGuide: ({ caller, params }) =>
    Effect.gen(function* () {
      if (caller.kind === "inbox" && caller.agentId !== params.agent_id) return yield* new ApiError({ status: 403, detail: "an inbox key opens only its own agent's setup guide" })
      const agent = yield* existingAgent(params.agent_id)
      const config = yield* AppConfig
      return reply(200, yield* setupGuide({ agentName: agent.name, agentId: agent.id, baseUrl: config.baseUrl, leaseMs: config.inboxLeaseMs }))
    })
})
