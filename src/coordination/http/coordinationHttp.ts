import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { z } from "zod"
import { agentView } from "../../agents/http/AgentView.ts"
import { ensureBoardLead } from "../../boards/ensureBoardLead.ts"
import { boardView } from "../../boards/http/BoardView.ts"
import { notFound } from "../../http/ApiError.ts"
import { reply, type Shape } from "../../http/Endpoint.ts"
import { existingBoard } from "../../http/lookups.ts"
import { serve } from "../../http/serve.ts"
import type { MessageNotFound } from "../../messages/MessageErrors.ts"
import { MessageLedger } from "../../messages/MessageLedger.ts"
import { answerSend, messageView } from "../../messages/http/MessageView.ts"
import { AgentRepo, type AgentRow } from "../../store/AgentRepo.ts"
import { BoardMemoryRepo } from "../../store/BoardMemoryRepo.ts"
import { BoardOnboardingRepo } from "../../store/BoardOnboardingRepo.ts"
import { BoardRepo, type BoardRow } from "../../store/BoardRepo.ts"
import { askUser } from "../askUser.ts"
import { agentOnBoard, boardAsLead, boardFor, callerAgent, requireMain, type Actor } from "../callerScope.ts"
import { forbidden } from "../CoordinationErrors.ts"
import { messageLead } from "../messageLead.ts"
import { nudgeAgent } from "../nudgeAgent.ts"
import { answerOnboarding, recordOnboardingReply, startOnboarding } from "../onboarding.ts"
import { postBoardMemory } from "../postBoardMemory.ts"
import { SoulFiles } from "../SoulFiles.ts"
import { writeSoul } from "../writeSoul.ts"
import { coordinationApi } from "./coordinationApi.ts"
import type { LeadMessageBody, MemoryBody, MemoryQuery } from "./coordinationRequests.ts"
import { type Broadcast, memoryView, onboardingView } from "./CoordinationView.ts"

const self = (caller: AgentRow): Actor => ({ kind: "agent", agent: caller })

/** The caller as coordination sees it: the admin, or an agent with its read model (its role and board are on the row). */
const actorOf = (caller: { readonly kind: "admin" } | { readonly kind: "agent"; readonly agentId: string }) =>
  caller.kind === "admin" ? Effect.succeed<Actor>({ kind: "admin" }) : Effect.map(callerAgent(caller.agentId), self)

/** The agents `caller` may list (docs/operations.md §6.2): its board's, or for the main agent its gateway's (a board of it, if named). */
const agentScope = (caller: AgentRow, boardId: string | undefined) =>
  Effect.gen(function* () {
    if (boardId !== undefined) return { boardId: (yield* boardFor(self(caller), boardId)).id, gatewayId: caller.gatewayId }
    return caller.role === "main" ? { boardId: undefined, gatewayId: caller.gatewayId } : { boardId: caller.boardId ?? "", gatewayId: caller.gatewayId }
  })

/** Ensures `board`'s lead (creating it if missing), then records the message to it in the ledger. */
const sendToLead = (caller: AgentRow, board: BoardRow, body: z.infer<typeof LeadMessageBody>, idempotencyKey: string | undefined) =>
  Effect.gen(function* () {
    const { lead, created } = yield* ensureBoardLead(board)
    const sent = yield* messageLead({
      caller,
      board,
      lead,
      kind: body.kind,
      content: body.content,
      correlationId: body.correlation_id,
      replyTags: body.reply_tags,
      replySource: body.reply_source,
      idempotencyKey
    })
    return { lead, created, sent }
  })

/** One board's line of a broadcast answer (Mission Control's shape plus the ledger message, docs/operations.md §6.12). */
type BoardResult = Shape<typeof Broadcast>["results"][number]

const reasonOf = (error: { readonly _tag: string; readonly message: string; readonly detail?: unknown }) => (typeof error.detail === "string" ? error.detail : error.message)

const listMemory = (caller: Parameters<typeof actorOf>[0], boardId: string, query: z.infer<typeof MemoryQuery>) =>
  Effect.gen(function* () {
    const board = yield* boardFor(yield* actorOf(caller), boardId)
    const page = yield* Effect.flatMap(BoardMemoryRepo, (repo) => repo.list(board.id, { isChat: query.is_chat, limit: query.limit, offset: query.offset }))
    return reply(200, { items: page.items.map(memoryView), total: page.total, limit: query.limit, offset: query.offset })
  })

const postMemory = (caller: Parameters<typeof actorOf>[0], boardId: string, body: z.infer<typeof MemoryBody>, idempotencyKey: string | undefined) =>
  Effect.gen(function* () {
    const posted = yield* postBoardMemory({ actor: yield* actorOf(caller), boardId, content: body.content, tags: body.tags, source: body.source, idempotencyKey })
    // The chat notifications are ledger messages: each one's delivery is at GET /api/v1/messages/{id}.
    return reply(posted.replayed ? 200 : 201, { ...memoryView(posted.memory), replayed: posted.replayed, messages: posted.messages.map(messageView) })
  })

/** The handlers of `coordinationApi`: they validate, ask the coordination programs, and answer; sends go through the message ledger. */
export const coordinationHttp = serve(coordinationApi, {
  agentWhoAmI: ({ caller }) =>
    Effect.map(callerAgent(caller.agentId), (agent) =>
      reply(200, {
        ok: true as const,
        agent_id: agent.id,
        name: agent.name,
        role: agentView(agent).role,
        board_id: agent.boardId,
        gateway_id: agent.gatewayId,
        status: agent.status,
        is_board_lead: agent.role === "lead",
        is_gateway_main: agent.role === "main"
      })
    ),
  agentListBoards: ({ caller }) =>
    Effect.gen(function* () {
      const agent = yield* callerAgent(caller.agentId)
      const boards = yield* Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId: agent.gatewayId }))
      const visible = agent.role === "main" ? boards : boards.filter((board) => board.id === agent.boardId)
      return reply(200, { items: visible.map(boardView), total: visible.length })
    }),
  agentGetBoard: ({ caller, params }) => Effect.map(Effect.flatMap(callerAgent(caller.agentId), (agent) => boardFor(self(agent), params.board_id)), (board) => reply(200, boardView(board))),
  agentListAgents: ({ caller, query }) =>
    Effect.gen(function* () {
      const scope = yield* agentScope(yield* callerAgent(caller.agentId), query.board_id)
      const page = yield* Effect.flatMap(AgentRepo, (repo) => repo.list({ ...scope, limit: query.limit, offset: query.offset }))
      return reply(200, { items: page.items.map(agentView), total: page.total, limit: query.limit, offset: query.offset })
    }),
  agentNudge: ({ caller, params, query, headers, body }) =>
    Effect.gen(function* () {
      const agent = yield* callerAgent(caller.agentId)
      const { target, sent } = yield* nudgeAgent({ caller: agent, boardId: params.board_id, targetAgentId: params.agent_id, message: body.message, idempotencyKey: headers["idempotency-key"] })
      return yield* answerSend(sent, query.wait_ms, { board_id: params.board_id, agent_id: target.id, agent_name: target.name })
    }),
  agentGetSoul: ({ caller, params }) =>
    Effect.gen(function* () {
      const agent = yield* callerAgent(caller.agentId)
      const board = yield* boardFor(self(agent), params.board_id)
      // The board's lead or the agent itself (docs/operations.md §6.2).
      if (agent.id !== params.agent_id && !(agent.role === "lead" && agent.boardId === board.id)) {
        return yield* forbidden("only the board lead, or the agent itself, may read an agent's SOUL.md")
      }
      const target = yield* agentOnBoard(board, params.agent_id)
      const content = yield* Effect.flatMap(SoulFiles, (files) => files.read(target))
      return reply(200, { agent_id: target.id, name: "SOUL.md" as const, content })
    }),
  agentPutSoul: ({ caller, params, query, body }) =>
    Effect.gen(function* () {
      const agent = yield* callerAgent(caller.agentId)
      const board = yield* boardAsLead(agent, params.board_id, "write an agent's SOUL.md")
      const target = yield* agentOnBoard(board, params.agent_id)
      const written = yield* writeSoul({ lead: agent, target, content: body.content, reason: body.reason, sourceUrl: body.source_url, waitMs: query.wait_ms })
      // 202 while the re-apply is still writing the file (or retrying: see `last_error`).
      return reply(written.applied ? 200 : 202, { ok: true as const, agent_id: target.id, applied: written.applied, state: written.statePath, last_error: written.lastError })
    }),
  agentAskUser: ({ caller, params, query, headers, body }) =>
    Effect.gen(function* () {
      const { main, sent } = yield* askUser({
        caller: yield* callerAgent(caller.agentId),
        boardId: params.board_id,
        content: body.content,
        preferredChannel: body.preferred_channel,
        correlationId: body.correlation_id,
        replyTags: body.reply_tags,
        replySource: body.reply_source,
        idempotencyKey: headers["idempotency-key"]
      })
      return yield* answerSend(sent, query.wait_ms, { board_id: params.board_id, main_agent_id: main.id, main_agent_name: main.name })
    }),
  agentMessageLead: ({ caller, params, query, headers, body }) =>
    Effect.gen(function* () {
      const agent = yield* callerAgent(caller.agentId)
      yield* requireMain(agent, "message board leads")
      const board = yield* boardFor(self(agent), params.board_id)
      const { lead, created, sent } = yield* sendToLead(agent, board, body, headers["idempotency-key"])
      return yield* answerSend(sent, query.wait_ms, { board_id: params.board_id, lead_agent_id: lead.id, lead_agent_name: lead.name, lead_created: created })
    }),
  agentBroadcastLeads: ({ caller, query, headers, body }) =>
    Effect.gen(function* () {
      const agent = yield* callerAgent(caller.agentId)
      yield* requireMain(agent, "broadcast to board leads")
      const idempotencyKey = headers["idempotency-key"]
      const boards = yield* Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId: agent.gatewayId }))
      const wanted = body.board_ids === undefined ? boards.map((board) => board.id) : [...new Set(body.board_ids)]
      const ledger = yield* MessageLedger
      // Per board: one board's failure is its result, not the broadcast's.
      const recorded = yield* Effect.forEach(
        wanted,
        (boardId) => {
          const board = boards.find((candidate) => candidate.id === boardId)
          if (board === undefined) return Effect.succeed({ board_id: boardId, ok: false, error: "board not found on this gateway" } as const)
          return sendToLead(agent, board, body, idempotencyKey === undefined ? undefined : `${idempotencyKey}:${board.id}`).pipe(
            Effect.map((done) => ({ board_id: board.id, ok: true, ...done }) as const),
            Effect.catchAll((error) => Effect.succeed({ board_id: board.id, ok: false, error: reasonOf(error) } as const))
          )
        },
        { concurrency: 4 }
      )
      // Then every delivery is awaited at once, so the answer comes within one `wait_ms`.
      const results = yield* Effect.forEach(
        recorded,
        (result): Effect.Effect<BoardResult, SqlError | MessageNotFound> =>
          !result.ok
            ? Effect.succeed(result)
            : Effect.map(query.wait_ms > 0 ? ledger.awaitSettled(result.sent.message.id, query.wait_ms) : Effect.succeed(result.sent.message), (message) => ({
                board_id: result.board_id,
                lead_agent_id: result.lead.id,
                lead_agent_name: result.lead.name,
                lead_created: result.created,
                ok: message.status !== "failed",
                error: message.status === "failed" ? message.lastError : null,
                message: messageView(message)
              })),
        { concurrency: "unbounded" }
      )
      const sent = results.filter((result) => result.ok).length
      return reply(200, { ok: true as const, sent, failed: results.length - sent, results })
    }),
  agentListBoardMemory: ({ caller, params, query }) => listMemory(caller, params.board_id, query),
  agentPostBoardMemory: ({ caller, params, headers, body }) => postMemory(caller, params.board_id, body, headers["idempotency-key"]),
  listBoardMemory: ({ caller, params, query }) => listMemory(caller, params.id, query),
  postBoardMemory: ({ caller, params, headers, body }) => postMemory(caller, params.id, body, headers["idempotency-key"]),
  agentOnboardingReply: ({ caller, params, body }) =>
    Effect.map(
      Effect.flatMap(callerAgent(caller.agentId), (agent) => recordOnboardingReply({ caller: agent, boardId: params.board_id, payload: body })),
      (row) => reply(200, onboardingView(row))
    ),
  getBoardOnboarding: ({ params }) =>
    Effect.gen(function* () {
      yield* existingBoard(params.id)
      const row = yield* Effect.flatMap(BoardOnboardingRepo, (repo) => repo.get(params.id))
      if (Option.isNone(row)) return yield* notFound("onboarding for this board")
      return reply(200, onboardingView(row.value))
    }),
  startBoardOnboarding: ({ params, query }) =>
    Effect.gen(function* () {
      const { onboarding, sent } = yield* startOnboarding(params.id)
      return yield* answerSend(sent, query.wait_ms, { onboarding: onboardingView(onboarding) })
    }),
  answerBoardOnboarding: ({ params, query, headers, body }) =>
    Effect.gen(function* () {
      const { onboarding, sent } = yield* answerOnboarding({ boardId: params.id, answer: body.answer, otherText: body.other_text, idempotencyKey: headers["idempotency-key"] })
      return yield* answerSend(sent, query.wait_ms, { onboarding: onboardingView(onboarding) })
    })
})
