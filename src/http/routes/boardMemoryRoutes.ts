import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { boardFor } from "../../coordination/callerScope.ts"
import { postBoardMemory } from "../../coordination/postBoardMemory.ts"
import { BoardMemoryRepo, type BoardMemoryRow } from "../../store/BoardMemoryRepo.ts"
import type { ApiError } from "../ApiError.ts"
import { IdParams } from "../contract.ts"
import { asActor, idempotencyKeyHeader, messageView } from "../coordinationAnswers.ts"
import { BoardParams, MemoryBody, MemoryQuery } from "../coordinationContract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { json } from "../respond.ts"

/** A board memory entry as the API shows it (Mission Control's shape plus who wrote it, docs/operations.md §6.12). */
export const memoryView = (row: BoardMemoryRow) => ({
  id: row.id,
  board_id: row.boardId,
  content: row.content,
  tags: row.tags,
  is_chat: row.isChat,
  source: row.source,
  author: { kind: row.authorKind, agent_id: row.authorAgentId },
  created_at: row.createdAt.toISOString()
})

/** The board in the path: `:id` under `/api/v1/boards`, `:board_id` under `/api/v1/agent/boards`. */
type BoardInPath = Effect.Effect<string, ApiError, HttpRouter.RouteContext>
const byId: BoardInPath = Effect.map(decodeParams(IdParams), (params) => params.id)
const byBoardId: BoardInPath = Effect.map(decodeParams(BoardParams), (params) => params.board_id)

const list = (boardInPath: BoardInPath) => asActor((actor) =>
  Effect.gen(function* () {
    const board_id = yield* boardInPath
    const query = yield* decodeQuery(MemoryQuery)
    const board = yield* boardFor(actor, board_id)
    const page = yield* Effect.flatMap(BoardMemoryRepo, (repo) => repo.list(board.id, { isChat: query.is_chat, limit: query.limit, offset: query.offset }))
    return json({ items: page.items.map(memoryView), total: page.total, limit: query.limit, offset: query.offset })
  })
)

const post = (boardInPath: BoardInPath) => asActor((actor) =>
  Effect.gen(function* () {
    const board_id = yield* boardInPath
    const body = yield* decodeBody(MemoryBody)
    const idempotencyKey = yield* idempotencyKeyHeader
    const posted = yield* postBoardMemory({ actor, boardId: board_id, content: body.content, tags: body.tags, source: body.source, idempotencyKey })
    // The chat notifications are ledger messages: each one's delivery is at GET /api/v1/messages/{id}.
    return json({ ...memoryView(posted.memory), replayed: posted.replayed, messages: posted.messages.map(messageView) }, posted.replayed ? 200 : 201)
  })
)

/**
 * `GET/POST /api/v1/boards/{id}/memory` (docs/operations.md §6.11) for the admin, the board's
 * agents and the gateway-main agent of its gateway; newest first, `?is_chat` filters. Also at
 * Mission Control's agent path `/api/v1/agent/boards/{id}/memory`, which its templates and reply
 * instructions name.
 */
export const boardMemoryRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/api/v1/boards/:id/memory", list(byId)),
  HttpRouter.post("/api/v1/boards/:id/memory", post(byId)),
  HttpRouter.get("/api/v1/agent/boards/:board_id/memory", list(byBoardId)),
  HttpRouter.post("/api/v1/agent/boards/:board_id/memory", post(byBoardId))
)
