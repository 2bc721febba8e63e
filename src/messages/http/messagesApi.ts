import { z } from "zod"
import { IdParams, PageQuery } from "../../http/contract.ts"
import { ALL_AGENTS, answer, endpoints, getById } from "../../http/Endpoint.ts"
import { pageOf } from "../../http/lists.ts"
import { LedgerMessage } from "./MessageView.ts"

/**
 * Look-ups in the message ledger (docs/architecture.md §9.3): every send, from any feature, and
 * how its delivery stands. One message for the admin or the agent that sent it; an agent's
 * received messages, newest first, for the admin.
 */
export const messagesApi = endpoints({
  getMessage: {
    method: "get",
    path: "/api/v1/messages/{id}",
    access: {
      kind: "agentsOrAdmin",
      resource: "messages",
      roles: ALL_AGENTS,
      intent: "Check whether a message you sent was delivered.",
      whenToUse: ["A send answered 202 (still pending)"]
    },
    summary: "A message and its delivery",
    description: "The admin reads any; an agent only the messages it sent.",
    params: IdParams,
    responses: { 200: answer("The message.", LedgerMessage) },
    failures: [404]
  },
  listAgentMessages: getById("/api/v1/agents/{id}/messages", "messages", "Messages sent to an agent", answer("A page of messages.", pageOf(LedgerMessage)), {
    description: "Newest first; kept after the agent is deleted.",
    query: PageQuery
  })
})
