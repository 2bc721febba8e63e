import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { askUser } from "../../coordination/askUser.ts"
import { agentOnBoard, boardAsLead, boardFor } from "../../coordination/callerScope.ts"
import { forbidden } from "../../coordination/CoordinationErrors.ts"
import { nudgeAgent } from "../../coordination/nudgeAgent.ts"
import { SoulFiles } from "../../coordination/SoulFiles.ts"
import { writeSoul } from "../../coordination/writeSoul.ts"
import { AgentRepo, type AgentRow } from "../../store/AgentRepo.ts"
import { BoardRepo } from "../../store/BoardRepo.ts"
import { answerSend, asAgent, idempotencyKeyHeader } from "../coordinationAnswers.ts"
import { AgentScopeQuery, AskUserBody, BoardAgentParams, BoardParams, DeliveryWaitQuery, NudgeBody, SoulBody } from "../coordinationContract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { json } from "../respond.ts"
import { agentView, boardView } from "../views.ts"

const self = (caller: AgentRow) => ({ kind: "agent" as const, agent: caller })

/** The agents `caller` may list (docs/operations.md §6.2): its board's, or for the main agent its gateway's (a board of it, if named). */
const agentScope = (caller: AgentRow, boardId: string | undefined) =>
  Effect.gen(function* () {
    if (boardId !== undefined) return { boardId: (yield* boardFor(self(caller), boardId)).id, gatewayId: caller.gatewayId }
    return caller.role === "main" ? { boardId: undefined, gatewayId: caller.gatewayId } : { boardId: caller.boardId ?? "", gatewayId: caller.gatewayId }
  })

/**
 * `/api/v1/agent/*`: the agent-facing coordination API (docs/operations.md §6.2), `X-Agent-Token`
 * only. The role comes from the caller's row: `main` (the gateway agent), `lead` or `worker`. A
 * board agent reaches its own board only; the main agent the boards of its own gateway only. Sends
 * go through the message ledger.
 */
export const agentApiRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/agent/healthz",
    asAgent((caller) =>
      Effect.succeed(
        json({
          ok: true,
          agent_id: caller.id,
          name: caller.name,
          role: caller.role,
          board_id: caller.boardId,
          gateway_id: caller.gatewayId,
          status: caller.status,
          is_board_lead: caller.role === "lead",
          is_gateway_main: caller.role === "main"
        })
      )
    )
  ),
  HttpRouter.get(
    "/api/v1/agent/boards",
    asAgent((caller) =>
      Effect.gen(function* () {
        const boards = yield* Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId: caller.gatewayId }))
        const visible = caller.role === "main" ? boards : boards.filter((board) => board.id === caller.boardId)
        return json({ items: visible.map(boardView), total: visible.length })
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/agent/boards/:board_id",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { board_id } = yield* decodeParams(BoardParams)
        return json(boardView(yield* boardFor(self(caller), board_id)))
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/agent/agents",
    asAgent((caller) =>
      Effect.gen(function* () {
        const query = yield* decodeQuery(AgentScopeQuery)
        const scope = yield* agentScope(caller, query.board_id)
        const page = yield* Effect.flatMap(AgentRepo, (repo) => repo.list({ ...scope, limit: query.limit, offset: query.offset }))
        return json({ items: page.items.map(agentView), total: page.total, limit: query.limit, offset: query.offset })
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/agent/boards/:board_id/agents/:agent_id/nudge",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { board_id, agent_id } = yield* decodeParams(BoardAgentParams)
        const { wait_ms } = yield* decodeQuery(DeliveryWaitQuery)
        const body = yield* decodeBody(NudgeBody)
        const idempotencyKey = yield* idempotencyKeyHeader
        const { target, sent } = yield* nudgeAgent({ caller, boardId: board_id, targetAgentId: agent_id, message: body.message, idempotencyKey })
        return yield* answerSend(sent, wait_ms, { board_id, agent_id: target.id, agent_name: target.name })
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/agent/boards/:board_id/agents/:agent_id/soul",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { board_id, agent_id } = yield* decodeParams(BoardAgentParams)
        const board = yield* boardFor(self(caller), board_id)
        // The board's lead or the agent itself (docs/operations.md §6.2).
        if (caller.id !== agent_id && !(caller.role === "lead" && caller.boardId === board.id)) {
          return yield* forbidden("only the board lead, or the agent itself, may read an agent's SOUL.md")
        }
        const target = yield* agentOnBoard(board, agent_id)
        const content = yield* Effect.flatMap(SoulFiles, (files) => files.read(target))
        return json({ agent_id: target.id, name: "SOUL.md", content })
      })
    )
  ),
  HttpRouter.put(
    "/api/v1/agent/boards/:board_id/agents/:agent_id/soul",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { board_id, agent_id } = yield* decodeParams(BoardAgentParams)
        const { wait_ms } = yield* decodeQuery(DeliveryWaitQuery)
        const body = yield* decodeBody(SoulBody)
        const board = yield* boardAsLead(caller, board_id, "write an agent's SOUL.md")
        const target = yield* agentOnBoard(board, agent_id)
        const written = yield* writeSoul({ lead: caller, target, content: body.content, reason: body.reason, sourceUrl: body.source_url, waitMs: wait_ms })
        // 202 while the re-apply is still writing the file (or retrying: see `last_error`).
        return json({ ok: true, agent_id: target.id, applied: written.applied, state: written.statePath, last_error: written.lastError }, written.applied ? 200 : 202)
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/agent/boards/:board_id/gateway/main/ask-user",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { board_id } = yield* decodeParams(BoardParams)
        const { wait_ms } = yield* decodeQuery(DeliveryWaitQuery)
        const body = yield* decodeBody(AskUserBody)
        const idempotencyKey = yield* idempotencyKeyHeader
        const { main, sent } = yield* askUser({
          caller,
          boardId: board_id,
          content: body.content,
          preferredChannel: body.preferred_channel,
          correlationId: body.correlation_id,
          replyTags: body.reply_tags,
          replySource: body.reply_source,
          idempotencyKey
        })
        return yield* answerSend(sent, wait_ms, { board_id, main_agent_id: main.id, main_agent_name: main.name })
      })
    )
  )
)
