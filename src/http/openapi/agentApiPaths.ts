import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { AgentScopeQuery, AskUserBody, BoardAgentParams, BoardParams, LeadBroadcastBody, LeadMessageBody, NudgeBody, SoulBody } from "../coordinationContract.ts"
import { DeliveryWaitDoc, idempotencyHeader, LedgerMessage, send, sent } from "./coordinationSchemas.ts"
import { ALL_AGENTS, agentOperation, answer, json } from "./legacyOperations.ts"
import { AgentView, BoardView, listOf, pageOf } from "./viewSchemas.ts"

/** `PUT …/soul`: written (200) or still being written (202). */
const SoulWritten = z.object({ ok: z.literal(true), agent_id: z.uuid(), applied: z.boolean(), state: z.string(), last_error: z.unknown() })

/** `/api/v1/agent/*`: the agent-facing coordination API (docs/operations.md §6.2), tagged by the roles that may call each. */
export const agentApiPaths: ZodOpenApiPathsObject = {
  "/api/v1/agent/healthz": {
    get: agentOperation(ALL_AGENTS, {
      operationId: "agentWhoAmI",
      summary: "Who am I",
      intent: "Check your token works and see your role, board and gateway.",
      whenToUse: ["Once at start-up", "When a call is refused with 401 or 403"],
      responses: {
        "200": answer(
          "You, as Switchyard sees you.",
          z.object({
            ok: z.literal(true),
            agent_id: z.uuid(),
            name: z.string(),
            role: z.enum(["main", "lead", "worker"]),
            board_id: z.uuid().nullable(),
            gateway_id: z.uuid(),
            status: z.string(),
            is_board_lead: z.boolean(),
            is_gateway_main: z.boolean()
          })
        )
      }
    })
  },
  "/api/v1/agent/boards": {
    get: agentOperation(ALL_AGENTS, {
      operationId: "agentListBoards",
      summary: "The boards you can see",
      description: "A board agent sees its own board; the gateway-main agent every board of its gateway.",
      intent: "List your board(s) with their goal.",
      whenToUse: ["Pre-flight of every cycle", "Main agent: to find a board by name"],
      responses: { "200": answer("Your boards.", listOf(BoardView)) }
    })
  },
  "/api/v1/agent/boards/{board_id}": {
    get: agentOperation(ALL_AGENTS, {
      operationId: "agentGetBoard",
      summary: "Read a board",
      intent: "Read one board's goal, objective and settings.",
      whenToUse: ["When you need the board's objective or success metrics"],
      requestParams: { path: BoardParams },
      responses: { "200": answer("The board.", BoardView) },
      failures: [404]
    })
  },
  "/api/v1/agent/agents": {
    get: agentOperation(ALL_AGENTS, {
      operationId: "agentListAgents",
      summary: "The agents you can see",
      description: "A board agent: its board's agents. The main agent: its gateway's agents, or one board's with `board_id`.",
      intent: "See who is on your board and what state each is in.",
      whenToUse: ["Before nudging or mentioning someone", "Lead: to check on your workers"],
      requestParams: { query: AgentScopeQuery },
      responses: { "200": answer("A page of agents.", pageOf(AgentView)) },
      failures: [404]
    })
  },
  "/api/v1/agent/boards/{board_id}/agents/{agent_id}/nudge": {
    post: send(["agent-lead"], {
      operationId: "agentNudge",
      summary: "Nudge a worker",
      description: "Lead only: sends the message to the worker's session (delivered to its channels too).",
      intent: "Prod one of your workers with a short message.",
      whenToUse: ["A worker has gone quiet on an assigned task", "Never for yourself"],
      requestParams: { path: BoardAgentParams, query: DeliveryWaitDoc, header: idempotencyHeader },
      requestBody: json(NudgeBody),
      responses: sent({ board_id: z.uuid(), agent_id: z.uuid(), agent_name: z.string() })
    })
  },
  "/api/v1/agent/boards/{board_id}/agents/{agent_id}/soul": {
    get: agentOperation(["agent-lead", "agent-worker"], {
      operationId: "agentGetSoul",
      summary: "Read an agent's SOUL.md",
      description: "The board lead, or the agent itself; read from the gateway.",
      intent: "Read the SOUL.md (persona) of an agent.",
      whenToUse: ["Lead: before rewriting a worker's persona", "To re-read your own SOUL.md"],
      requestParams: { path: BoardAgentParams },
      responses: { "200": answer("The file.", z.object({ agent_id: z.uuid(), name: z.literal("SOUL.md"), content: z.string() })) },
      failures: [404, 502]
    }),
    put: agentOperation(["agent-lead"], {
      operationId: "agentPutSoul",
      summary: "Rewrite a worker's SOUL.md",
      description: "Lead only: stored as the agent's soul template, then written to the gateway by re-applying the agent (202 while that is still under way).",
      intent: "Give one of your workers a new persona.",
      whenToUse: ["A worker needs different skills or tone for its tasks"],
      requestParams: { path: BoardAgentParams, query: DeliveryWaitDoc },
      requestBody: json(SoulBody),
      responses: {
        "200": answer("Written.", SoulWritten),
        "202": answer("Stored; the file is still being written (see `state`, `last_error`).", SoulWritten)
      },
      failures: [400, 404]
    })
  },
  "/api/v1/agent/boards/{board_id}/gateway/main/ask-user": {
    post: send(["agent-lead"], {
      operationId: "agentAskUser",
      summary: "Ask the human, through the gateway-main agent",
      description: "Lead only: the main agent reaches the human over its channels and replies with a non-chat board memory entry carrying `reply_tags`.",
      intent: "Ask the human user a question you cannot answer yourself.",
      whenToUse: ["A decision needs the user (scope, approval, credentials)", "Then watch board memory for the reply tags"],
      requestParams: { path: BoardParams, query: DeliveryWaitDoc, header: idempotencyHeader },
      requestBody: json(AskUserBody),
      responses: sent({ board_id: z.uuid(), main_agent_id: z.uuid(), main_agent_name: z.string() })
    })
  },
  "/api/v1/agent/gateway/boards/{board_id}/lead/message": {
    post: send(["agent-main"], {
      operationId: "agentMessageLead",
      summary: "Message a board's lead",
      description: "Main only, boards of its gateway: a question or a handoff; a board without a lead gets one first (`lead_created`).",
      intent: "Pass a question or a handoff to a board's lead.",
      whenToUse: ["The user asked for something a board should do", "To relay the user's answer to a lead"],
      requestParams: { path: BoardParams, query: DeliveryWaitDoc, header: idempotencyHeader },
      requestBody: json(LeadMessageBody),
      responses: sent({ board_id: z.uuid(), lead_agent_id: z.uuid(), lead_agent_name: z.string(), lead_created: z.boolean() })
    })
  },
  "/api/v1/agent/gateway/leads/broadcast": {
    post: send(["agent-main"], {
      operationId: "agentBroadcastLeads",
      summary: "Message every board's lead",
      description: "Main only: every board of its gateway, or `board_ids`; one board's failure is its own result.",
      intent: "Tell all board leads the same thing at once.",
      whenToUse: ["A change concerns every board (a new policy, a pause)"],
      requestParams: { query: DeliveryWaitDoc, header: idempotencyHeader },
      requestBody: json(LeadBroadcastBody),
      responses: {
        "200": answer(
          "One result per board.",
          z.object({
            ok: z.literal(true),
            sent: z.int(),
            failed: z.int(),
            results: z.array(
              z.object({
                board_id: z.uuid(),
                ok: z.boolean(),
                error: z.string().nullable(),
                lead_agent_id: z.uuid().optional(),
                lead_agent_name: z.string().optional(),
                lead_created: z.boolean().optional(),
                message: LedgerMessage.optional()
              })
            )
          })
        )
      }
    })
  }
}
