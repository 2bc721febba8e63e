import type { ZodOpenApiPathsObject } from "zod-openapi"
import { IdParams, PageQuery } from "../contract.ts"
import { BoardParams, MemoryBody, MemoryQuery, MessageParams, OnboardingAgentBody, OnboardingAnswerBody } from "../coordinationContract.ts"
import { BoardMemory, DeliveryWaitDoc, idempotencyHeader, LedgerMessage, MemoryPosted, Onboarding, sent } from "./coordinationSchemas.ts"
import { ALL_AGENTS, adminOperation, agentOperation, answer, json, type AgentOperationSpec } from "./legacyOperations.ts"
import { pageOf } from "./viewSchemas.ts"

const memoryList: Omit<AgentOperationSpec, "operationId" | "requestParams"> = {
  summary: "Read board memory and chat",
  description: "Newest first; `is_chat=true` for board chat only. The board's agents and its gateway's main agent may read it.",
  intent: "Read the board's shared notes and chat.",
  whenToUse: ["Before starting work, to catch up on decisions", "To find replies tagged for you (e.g. `lead_reply`, `user_reply`)"],
  responses: { "200": answer("A page of entries.", pageOf(BoardMemory)) },
  failures: [404]
}

const memoryPost: Omit<AgentOperationSpec, "operationId" | "requestParams"> = {
  summary: "Write to board memory or chat",
  description:
    "A `chat` tag makes it board chat: the lead and every @mentioned agent get it as a message (their deliveries are in `messages`); chat of exactly `/pause` or `/resume` pauses or resumes the board and goes to every agent of it.",
  intent: "Record a durable note, or say something in board chat.",
  whenToUse: ["To record a decision, an artifact or a blocker", "To reply where a message asked (non-chat entry with its reply tags)", "With tag `chat` to talk to the board"],
  requestBody: json(MemoryBody),
  responses: {
    "201": answer("Recorded.", MemoryPosted),
    "200": answer("Replayed (same Idempotency-Key); nothing new.", MemoryPosted)
  },
  failures: [400, 404, 409]
}

/** Board memory and chat, board onboarding (docs/operations.md §6.11) and the message ledger. */
export const boardMemoryPaths: ZodOpenApiPathsObject = {
  "/api/v1/agent/boards/{board_id}/memory": {
    get: agentOperation(ALL_AGENTS, { ...memoryList, operationId: "agentListBoardMemory", admin: "boards", requestParams: { path: BoardParams, query: MemoryQuery } }),
    post: agentOperation(ALL_AGENTS, { ...memoryPost, operationId: "agentPostBoardMemory", admin: "boards", requestParams: { path: BoardParams, header: idempotencyHeader } })
  },
  "/api/v1/boards/{id}/memory": {
    get: agentOperation(ALL_AGENTS, { ...memoryList, operationId: "listBoardMemory", admin: "boards", requestParams: { path: IdParams, query: MemoryQuery } }),
    post: agentOperation(ALL_AGENTS, { ...memoryPost, operationId: "postBoardMemory", admin: "boards", requestParams: { path: IdParams, header: idempotencyHeader } })
  },
  "/api/v1/agent/boards/{board_id}/onboarding": {
    post: agentOperation(["agent-main"], {
      operationId: "agentOnboardingReply",
      summary: "Post an onboarding question or the finished goal",
      description: "Main only: one question with options, or `status: \"complete\"` with the draft goal (a goal board needs an objective).",
      intent: "Continue a board's onboarding conversation.",
      whenToUse: ["You received an onboarding prompt or answer for a board"],
      requestParams: { path: BoardParams },
      requestBody: json(OnboardingAgentBody),
      responses: { "200": answer("The onboarding so far.", Onboarding) },
      failures: [400, 404, 409]
    })
  },
  "/api/v1/boards/{id}/onboarding": {
    get: adminOperation("boards", {
      operationId: "getBoardOnboarding",
      summary: "A board's onboarding",
      requestParams: { path: IdParams },
      responses: { "200": answer("The conversation and the draft goal.", Onboarding) },
      failures: [404]
    })
  },
  "/api/v1/boards/{id}/onboarding/start": {
    post: adminOperation("boards", {
      operationId: "startBoardOnboarding",
      summary: "Start a board's onboarding",
      description: "Sends the onboarding prompt to the gateway-main agent's session.",
      requestParams: { path: IdParams, query: DeliveryWaitDoc },
      responses: sent({ onboarding: Onboarding }),
      failures: [404, 409]
    })
  },
  "/api/v1/boards/{id}/onboarding/answer": {
    post: adminOperation("boards", {
      operationId: "answerBoardOnboarding",
      summary: "Forward the user's answer",
      requestParams: { path: IdParams, query: DeliveryWaitDoc, header: idempotencyHeader },
      requestBody: json(OnboardingAnswerBody),
      responses: sent({ onboarding: Onboarding }),
      failures: [400, 404, 409]
    })
  }
}
