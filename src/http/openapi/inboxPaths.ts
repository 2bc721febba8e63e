import { z } from "zod"
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from "zod-openapi"
import type { contactView, historyView, polledView } from "../../inbox/inboxViews.ts"
import { IdParams } from "../contract.ts"
import { ActivityQuery, AgentIdParams, InboxHeartbeatBody, PollQuery, ReportBody, SendMessageBody } from "../inboxContract.ts"
import type { Conforms, Expect } from "./conforms.ts"
import { ALL_AGENTS, adminOperation, agentOperation, answer, json, optionalJson, withFailures, type OperationSpec } from "./legacyOperations.ts"
import { ActivityView, pageOf } from "./viewSchemas.ts"

const time = z.iso.datetime({ offset: true })

const Sender = z.object({ kind: z.enum(["admin", "agent", "system"]), agent_id: z.uuid().nullable(), name: z.string().nullable() })

export const InboxContact = z
  .object({ id: z.uuid(), name: z.string(), role: z.string(), board_id: z.uuid().nullable() })
  .meta({ id: "InboxContact", description: "An agent this one may message, by exact name." })

const HistoryLine = z.object({
  id: z.uuid(),
  sender: Sender,
  to_agent_id: z.uuid(),
  content: z.string(),
  reply_to: z.uuid().nullable(),
  result: z.unknown().meta({ description: "The reported result; null until reported." }),
  created_at: time
})

export const InboxMessage = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    content: z.string(),
    sender: Sender,
    reply_to: z.uuid().nullable(),
    attempts: z.int().meta({ description: "How many polls have leased it; more than 1 means a lease ran out before a report." }),
    lease_expires_at: time.nullable(),
    created_at: time,
    history: z.array(HistoryLine).meta({ description: "The conversation it belongs to, oldest first." })
  })
  .meta({ id: "InboxMessage" })

export const InboxPolled = z.object({ agent_id: z.uuid(), lease_ms: z.int(), messages: z.array(InboxMessage), contacts: z.array(InboxContact) })

/** An operation of the agent inbox: the agent's own inbox key in `X-Api-Key` (docs/operations.md §6.16). */
const inboxOperation = (spec: OperationSpec & { readonly intent: string; readonly whenToUse: ReadonlyArray<string> }): ZodOpenApiOperationObject => {
  const { intent, whenToUse, failures, ...rest } = spec
  return {
    ...rest,
    tags: ["inbox"],
    security: [{ inboxKey: [] }],
    "x-llm-intent": intent,
    "x-when-to-use": [...whenToUse],
    responses: withFailures(spec.responses, [401, 403, 422, 429, 503, ...(failures ?? [])])
  }
}

/** `/api/gateway/*` (the agent inbox), its key, and `GET /api/v1/activity`. */
export const inboxPaths: ZodOpenApiPathsObject = {
  "/api/v1/agents/{id}/api-key": {
    post: adminOperation("agents", {
      operationId: "issueInboxKey",
      summary: "Issue (or rotate) an agent's inbox key",
      description: "The key is shown once (`Cache-Control: no-store`); only its sha256 is stored. Issuing again rotates it.",
      requestParams: { path: IdParams },
      responses: {
        "201": answer("The new key.", z.object({ agent_id: z.uuid(), api_key: z.string().meta({ example: "oc-…" }), rotated: z.boolean(), created_at: time }))
      },
      failures: [404]
    })
  },
  "/api/gateway/poll": {
    get: inboxOperation({
      operationId: "inboxPoll",
      summary: "Poll the inbox",
      description: "Leases up to `limit` messages for `lease_ms`; one not reported before its lease ends is handed out again (at least once). Also lists the contacts this agent may message.",
      intent: "Fetch the messages waiting for you, and who you may write to.",
      whenToUse: ["At the start of every cycle", "After reporting, to see whether more is waiting"],
      requestParams: { query: PollQuery },
      responses: {
        "200": answer("Messages leased to you, and your contacts.", InboxPolled)
      },
      failures: [404]
    })
  },
  "/api/gateway/report": {
    post: inboxOperation({
      operationId: "inboxReport",
      summary: "Report a message's result",
      description: "Idempotent: the same result again is `replayed`; a different one is 409. A reply to another agent's message reaches that agent.",
      intent: "Report the result of a message you were given.",
      whenToUse: ["Once you have done what a polled message asked", "Before its lease runs out"],
      requestBody: json(ReportBody),
      responses: {
        "200": answer("Recorded.", z.object({ status: z.literal("ok"), message_id: z.uuid(), replayed: z.boolean(), reply_message_id: z.uuid().nullable() }))
      },
      failures: [400, 404, 409]
    })
  },
  "/api/gateway/heartbeat": {
    post: inboxOperation({
      operationId: "inboxHeartbeat",
      summary: "Check in (heartbeat) with the inbox key",
      intent: "Tell Switchyard you are alive.",
      whenToUse: ["Each cycle, when you hold an inbox key rather than an agent token"],
      requestBody: optionalJson(InboxHeartbeatBody),
      responses: { "200": answer("Checked in.", z.object({ status: z.literal("ok"), agent_id: z.uuid() })) },
      failures: [400, 404]
    })
  },
  "/api/gateway/send-message": {
    post: inboxOperation({
      operationId: "inboxSendMessage",
      summary: "Send a message to a contact",
      description: "`to` is a contact's exact name (case does not matter). With `idempotency_key`, a retry sends nothing twice.",
      intent: "Ask another agent of your board (or gateway) to do something.",
      whenToUse: ["You need a teammate listed in your contacts to act", "Never to message yourself"],
      requestBody: json(SendMessageBody),
      responses: {
        "202": answer("Accepted; it reaches the contact's inbox.", z.object({ status: z.literal("accepted"), message_id: z.uuid(), to: InboxContact, replayed: z.boolean() }))
      },
      failures: [400, 404, 409]
    })
  },
  "/api/gateway/setup-guide/{agent_id}": {
    get: {
      ...inboxOperation({
        operationId: "inboxSetupGuide",
        summary: "The inbox skill for an agent",
        description: "The skill file that teaches an agent to poll, work and report, rendered with this service's base URL. The admin may read any agent's.",
        intent: "Read the instructions for using your inbox.",
        whenToUse: ["Once, when you are given an inbox key"],
        requestParams: { path: AgentIdParams },
        responses: {
          "200": answer("The skill and a line for HEARTBEAT.md.", z.object({ skill_filename: z.string(), skill_content: z.string(), heartbeat_addition: z.string(), base_url: z.string() }))
        },
        failures: [404]
      }),
      tags: ["inbox", "admin", "agents"],
      security: [{ inboxKey: [] }, { adminBearer: [] }]
    }
  }
}

export type InboxSchemasConform = [
  Expect<Conforms<ReturnType<typeof polledView>, typeof InboxMessage>>,
  Expect<Conforms<ReturnType<typeof historyView>, typeof HistoryLine>>,
  Expect<Conforms<ReturnType<typeof contactView>, typeof InboxContact>>
]
