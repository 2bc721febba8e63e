import { z } from "zod"
import { AgentView } from "../../agents/http/AgentView.ts"
import { BoardView } from "../../boards/http/BoardView.ts"
import { IdParams } from "../../http/contract.ts"
import { ALL_AGENTS, answer, endpoints, getById, type AgentHints, type RoleTag } from "../../http/Endpoint.ts"
import { listOf, pageOf } from "../../http/lists.ts"
import { DeliveryWaitQuery, SendIdempotencyHeader, sent } from "../../messages/http/MessageView.ts"
import { BoardMemory, Broadcast, MemoryPosted, Onboarding, SoulWritten, WhoAmI } from "./CoordinationView.ts"
import {
  AgentScopeQuery,
  AskUserBody,
  BoardAgentParams,
  BoardParams,
  LeadBroadcastBody,
  LeadMessageBody,
  MemoryBody,
  MemoryQuery,
  NudgeBody,
  OnboardingAgentBody,
  OnboardingAnswerBody,
  SoulBody
} from "./coordinationRequests.ts"

const agents = (roles: ReadonlyArray<RoleTag>, hints: AgentHints) => ({ kind: "agents", roles, ...hints }) as const

/** Lead- or main-only sends: the coordination programs check the role with the board in hand (`boardAsLead`, `requireMain`), so the refusal names it. */
const checked = (roles: ReadonlyArray<RoleTag>, hints: AgentHints) => ({ kind: "agents", roles, checkedBy: "context", ...hints }) as const
const boardsAdmin = { kind: "admin", resource: "boards" } as const

const memoryList = {
  summary: "Read board memory and chat",
  description: "Newest first; `is_chat=true` for board chat only. The board's agents and its gateway's main agent may read it.",
  access: {
    kind: "agentsOrAdmin",
    resource: "boards",
    roles: ALL_AGENTS,
    intent: "Read the board's shared notes and chat.",
    whenToUse: ["Before starting work, to catch up on decisions", "To find replies tagged for you (e.g. `lead_reply`, `user_reply`)"]
  },
  method: "get",
  query: MemoryQuery,
  responses: { 200: answer("A page of entries.", pageOf(BoardMemory)) },
  failures: [404]
} as const

const memoryPost = {
  summary: "Write to board memory or chat",
  description:
    "A `chat` tag makes it board chat: the lead and every @mentioned agent get it as a message (their deliveries are in `messages`); chat of exactly `/pause` or `/resume` pauses or resumes the board and goes to every agent of it.",
  access: {
    kind: "agentsOrAdmin",
    resource: "boards",
    roles: ALL_AGENTS,
    intent: "Record a durable note, or say something in board chat.",
    whenToUse: ["To record a decision, an artifact or a blocker", "To reply where a message asked (non-chat entry with its reply tags)", "With tag `chat` to talk to the board"]
  },
  method: "post",
  headers: SendIdempotencyHeader,
  body: MemoryBody,
  responses: { 201: answer("Recorded.", MemoryPosted), 200: answer("Replayed (same Idempotency-Key); nothing new.", MemoryPosted) },
  failures: [400, 404, 409]
} as const

/** A send by an agent: refused input, an unknown target or a reused key besides the usual. */
const SEND_FAILURES = [400, 404, 409] as const

/**
 * The agent-facing coordination API (`/api/v1/agent/*`, docs/operations.md §6.2), `X-Agent-Token`
 * only, with the roles that may call each; board memory and chat, and board onboarding (§6.11).
 * A board agent reaches its own board only; the main agent the boards of its own gateway only.
 * Sends go through the message ledger.
 */
export const coordinationApi = endpoints({
  agentWhoAmI: {
    method: "get",
    path: "/api/v1/agent/healthz",
    access: agents(ALL_AGENTS, { intent: "Check your token works and see your role, board and gateway.", whenToUse: ["Once at start-up", "When a call is refused with 401 or 403"] }),
    summary: "Who am I",
    responses: { 200: answer("You, as Switchyard sees you.", WhoAmI) }
  },
  agentListBoards: {
    method: "get",
    path: "/api/v1/agent/boards",
    access: agents(ALL_AGENTS, { intent: "List your board(s) with their goal.", whenToUse: ["Pre-flight of every cycle", "Main agent: to find a board by name"] }),
    summary: "The boards you can see",
    description: "A board agent sees its own board; the gateway-main agent every board of its gateway.",
    responses: { 200: answer("Your boards.", listOf(BoardView)) }
  },
  agentGetBoard: {
    method: "get",
    path: "/api/v1/agent/boards/{board_id}",
    access: agents(ALL_AGENTS, { intent: "Read one board's goal, objective and settings.", whenToUse: ["When you need the board's objective or success metrics"] }),
    summary: "Read a board",
    params: BoardParams,
    responses: { 200: answer("The board.", BoardView) },
    failures: [404]
  },
  agentListAgents: {
    method: "get",
    path: "/api/v1/agent/agents",
    access: agents(ALL_AGENTS, { intent: "See who is on your board and what state each is in.", whenToUse: ["Before nudging or mentioning someone", "Lead: to check on your workers"] }),
    summary: "The agents you can see",
    description: "A board agent: its board's agents. The main agent: its gateway's agents, or one board's with `board_id`.",
    query: AgentScopeQuery,
    responses: { 200: answer("A page of agents.", pageOf(AgentView)) },
    failures: [404]
  },
  agentNudge: {
    method: "post",
    path: "/api/v1/agent/boards/{board_id}/agents/{agent_id}/nudge",
    access: checked(["agent-lead"], { intent: "Prod one of your workers with a short message.", whenToUse: ["A worker has gone quiet on an assigned task", "Never for yourself"] }),
    summary: "Nudge a worker",
    description: "Lead only: sends the message to the worker's session (delivered to its channels too).",
    params: BoardAgentParams,
    query: DeliveryWaitQuery,
    headers: SendIdempotencyHeader,
    body: NudgeBody,
    responses: sent({ board_id: z.uuid(), agent_id: z.uuid(), agent_name: z.string() }),
    failures: SEND_FAILURES
  },
  agentGetSoul: {
    method: "get",
    path: "/api/v1/agent/boards/{board_id}/agents/{agent_id}/soul",
    access: agents(["agent-lead", "agent-worker"], { intent: "Read the SOUL.md (persona) of an agent.", whenToUse: ["Lead: before rewriting a worker's persona", "To re-read your own SOUL.md"] }),
    summary: "Read an agent's SOUL.md",
    description: "The board lead, or the agent itself; read from the gateway.",
    params: BoardAgentParams,
    responses: { 200: answer("The file.", z.object({ agent_id: z.uuid(), name: z.literal("SOUL.md"), content: z.string() })) },
    failures: [404, 502]
  },
  agentPutSoul: {
    method: "put",
    path: "/api/v1/agent/boards/{board_id}/agents/{agent_id}/soul",
    access: checked(["agent-lead"], { intent: "Give one of your workers a new persona.", whenToUse: ["A worker needs different skills or tone for its tasks"] }),
    summary: "Rewrite a worker's SOUL.md",
    description: "Lead only: stored as the agent's soul template, then written to the gateway by re-applying the agent (202 while that is still under way).",
    params: BoardAgentParams,
    query: DeliveryWaitQuery,
    body: SoulBody,
    responses: { 200: answer("Written.", SoulWritten), 202: answer("Stored; the file is still being written (see `state`, `last_error`).", SoulWritten) },
    failures: [400, 404]
  },
  agentAskUser: {
    method: "post",
    path: "/api/v1/agent/boards/{board_id}/gateway/main/ask-user",
    access: checked(["agent-lead"], {
      intent: "Ask the human user a question you cannot answer yourself.",
      whenToUse: ["A decision needs the user (scope, approval, credentials)", "Then watch board memory for the reply tags"]
    }),
    summary: "Ask the human, through the gateway-main agent",
    description: "Lead only: the main agent reaches the human over its channels and replies with a non-chat board memory entry carrying `reply_tags`.",
    params: BoardParams,
    query: DeliveryWaitQuery,
    headers: SendIdempotencyHeader,
    body: AskUserBody,
    responses: sent({ board_id: z.uuid(), main_agent_id: z.uuid(), main_agent_name: z.string() }),
    failures: SEND_FAILURES
  },
  agentMessageLead: {
    method: "post",
    path: "/api/v1/agent/gateway/boards/{board_id}/lead/message",
    access: checked(["agent-main"], { intent: "Pass a question or a handoff to a board's lead.", whenToUse: ["The user asked for something a board should do", "To relay the user's answer to a lead"] }),
    summary: "Message a board's lead",
    description: "Main only, boards of its gateway: a question or a handoff; a board without a lead gets one first (`lead_created`).",
    params: BoardParams,
    query: DeliveryWaitQuery,
    headers: SendIdempotencyHeader,
    body: LeadMessageBody,
    responses: sent({ board_id: z.uuid(), lead_agent_id: z.uuid(), lead_agent_name: z.string(), lead_created: z.boolean() }),
    failures: SEND_FAILURES
  },
  agentBroadcastLeads: {
    method: "post",
    path: "/api/v1/agent/gateway/leads/broadcast",
    access: checked(["agent-main"], { intent: "Tell all board leads the same thing at once.", whenToUse: ["A change concerns every board (a new policy, a pause)"] }),
    summary: "Message every board's lead",
    description: "Main only: every board of its gateway, or `board_ids`; one board's failure is its own result.",
    query: DeliveryWaitQuery,
    headers: SendIdempotencyHeader,
    body: LeadBroadcastBody,
    responses: { 200: answer("One result per board.", Broadcast) },
    failures: SEND_FAILURES
  },
  agentListBoardMemory: { ...memoryList, path: "/api/v1/agent/boards/{board_id}/memory", params: BoardParams },
  agentPostBoardMemory: { ...memoryPost, path: "/api/v1/agent/boards/{board_id}/memory", params: BoardParams },
  listBoardMemory: { ...memoryList, path: "/api/v1/boards/{id}/memory", params: IdParams },
  postBoardMemory: { ...memoryPost, path: "/api/v1/boards/{id}/memory", params: IdParams },
  agentOnboardingReply: {
    method: "post",
    path: "/api/v1/agent/boards/{board_id}/onboarding",
    access: checked(["agent-main"], { intent: "Continue a board's onboarding conversation.", whenToUse: ["You received an onboarding prompt or answer for a board"] }),
    summary: "Post an onboarding question or the finished goal",
    description: "Main only: one question with options, or `status: \"complete\"` with the draft goal (a goal board needs an objective).",
    params: BoardParams,
    body: OnboardingAgentBody,
    responses: { 200: answer("The onboarding so far.", Onboarding) },
    failures: [400, 404, 409]
  },
  getBoardOnboarding: getById("/api/v1/boards/{id}/onboarding", "boards", "A board's onboarding", answer("The conversation and the draft goal.", Onboarding)),
  startBoardOnboarding: {
    method: "post",
    path: "/api/v1/boards/{id}/onboarding/start",
    access: boardsAdmin,
    summary: "Start a board's onboarding",
    description: "Sends the onboarding prompt to the gateway-main agent's session.",
    params: IdParams,
    query: DeliveryWaitQuery,
    responses: sent({ onboarding: Onboarding }),
    failures: [404, 409]
  },
  answerBoardOnboarding: {
    method: "post",
    path: "/api/v1/boards/{id}/onboarding/answer",
    access: boardsAdmin,
    summary: "Forward the user's answer",
    params: IdParams,
    query: DeliveryWaitQuery,
    headers: SendIdempotencyHeader,
    body: OnboardingAnswerBody,
    responses: sent({ onboarding: Onboarding }),
    failures: [400, 404, 409]
  }
})
