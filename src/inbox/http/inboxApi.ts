import { z } from "zod"
import { IdParams } from "../../http/contract.ts"
import { answer, endpoints } from "../../http/Endpoint.ts"
import { InboxContact, InboxPolled } from "./InboxView.ts"
import { AgentIdParams, InboxHeartbeatBody, PollQuery, ReportBody, SendMessageBody } from "./inboxRequests.ts"
import { time } from "../../http/timestamps.ts"

/**
 * The agent inbox (docs/operations.md §6.16): `/api/gateway/*` keeps Clawith's paths (its pull
 * API), authenticated by the agent's inbox key in `X-Api-Key`; and the admin call that issues
 * the key.
 */
export const inboxApi = endpoints({
  issueInboxKey: {
    method: "post",
    path: "/api/v1/agents/{id}/api-key",
    access: { kind: "admin", resource: "agents" },
    summary: "Issue (or rotate) an agent's inbox key",
    description: "The key is shown once (`Cache-Control: no-store`); only its sha256 is stored. Issuing again rotates it.",
    params: IdParams,
    responses: { 201: answer("The new key.", z.object({ agent_id: z.uuid(), api_key: z.string().meta({ example: "oc-…" }), rotated: z.boolean(), created_at: time })) },
    failures: [404]
  },
  inboxPoll: {
    method: "get",
    path: "/api/gateway/poll",
    access: { kind: "inbox", intent: "Fetch the messages waiting for you, and who you may write to.", whenToUse: ["At the start of every cycle", "After reporting, to see whether more is waiting"] },
    summary: "Poll the inbox",
    description: "Leases up to `limit` messages for `lease_ms`; one not reported before its lease ends is handed out again (at least once). Also lists the contacts this agent may message.",
    query: PollQuery,
    responses: { 200: answer("Messages leased to you, and your contacts.", InboxPolled) },
    failures: [404]
  },
  inboxReport: {
    method: "post",
    path: "/api/gateway/report",
    access: { kind: "inbox", intent: "Report the result of a message you were given.", whenToUse: ["Once you have done what a polled message asked", "Before its lease runs out"] },
    summary: "Report a message's result",
    description: "Idempotent: the same result again is `replayed`; a different one is 409. A reply to another agent's message reaches that agent.",
    body: ReportBody,
    responses: { 200: answer("Recorded.", z.object({ status: z.literal("ok"), message_id: z.uuid(), replayed: z.boolean(), reply_message_id: z.uuid().nullable() })) },
    failures: [400, 404, 409]
  },
  inboxHeartbeat: {
    method: "post",
    path: "/api/gateway/heartbeat",
    access: { kind: "inbox", intent: "Tell Switchyard you are alive.", whenToUse: ["Each cycle, when you hold an inbox key rather than an agent token"] },
    summary: "Check in (heartbeat) with the inbox key",
    body: InboxHeartbeatBody,
    bodyOptional: true,
    responses: { 200: answer("Checked in.", z.object({ status: z.literal("ok"), agent_id: z.uuid() })) },
    failures: [400, 404]
  },
  inboxSendMessage: {
    method: "post",
    path: "/api/gateway/send-message",
    access: { kind: "inbox", intent: "Ask another agent of your board (or gateway) to do something.", whenToUse: ["You need a teammate listed in your contacts to act", "Never to message yourself"] },
    summary: "Send a message to a contact",
    description: "`to` is a contact's exact name (case does not matter). With `idempotency_key`, a retry sends nothing twice.",
    body: SendMessageBody,
    responses: { 202: answer("Accepted; it reaches the contact's inbox.", z.object({ status: z.literal("accepted"), message_id: z.uuid(), to: InboxContact, replayed: z.boolean() })) },
    failures: [400, 404, 409]
  },
  inboxSetupGuide: {
    method: "get",
    path: "/api/gateway/setup-guide/{agent_id}",
    access: { kind: "inboxOrAdmin", resource: "agents", intent: "Read the instructions for using your inbox.", whenToUse: ["Once, when you are given an inbox key"] },
    summary: "The inbox skill for an agent",
    description: "The skill file that teaches an agent to poll, work and report, rendered with this service's base URL. The admin may read any agent's.",
    params: AgentIdParams,
    responses: { 200: answer("The skill and a line for HEARTBEAT.md.", z.object({ skill_filename: z.string(), skill_content: z.string(), heartbeat_addition: z.string(), base_url: z.string() })) },
    failures: [404]
  }
})
