import { HttpRouter } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { z } from "zod"
import { boardFor, requireMain } from "../../coordination/callerScope.ts"
import { messageLead } from "../../coordination/messageLead.ts"
import { MessageLedger, type MessageNotFound } from "../../messages/MessageLedger.ts"
import type { AgentRow } from "../../store/AgentRepo.ts"
import { BoardRepo, type BoardRow } from "../../store/BoardRepo.ts"
import { answerSend, asAgent, idempotencyKeyHeader, messageView, withCoordinationAnswers } from "../coordinationAnswers.ts"
import { BoardParams, DeliveryWaitQuery, LeadBroadcastBody, LeadMessageBody } from "../coordinationContract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { ensureBoardLead } from "../../agents/http/ensureBoardLead.ts"
import { json } from "../respond.ts"

type LeadMessage = z.infer<typeof LeadMessageBody>

/** Ensures `board`'s lead (creating it if missing), then records the message to it in the ledger. */
const sendToLead = (caller: AgentRow, board: BoardRow, body: LeadMessage, idempotencyKey: string | undefined) =>
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
type BoardResult = { readonly board_id: string; readonly ok: boolean; readonly error: string | null; readonly [detail: string]: unknown }

const reasonOf = (error: { readonly _tag: string; readonly message: string; readonly detail?: unknown }) =>
  typeof error.detail === "string" ? error.detail : error.message

/**
 * The gateway-main agent's messages to board leads (`POST
 * /api/v1/agent/gateway/boards/{b}/lead/message` and `/api/v1/agent/gateway/leads/broadcast`,
 * docs/operations.md §6.2, §6.11): main only, boards of its own gateway only; a board without a
 * lead gets one first (`lead_created`).
 */
export const leadMessageRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/agent/gateway/boards/:board_id/lead/message",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { board_id } = yield* decodeParams(BoardParams)
        const { wait_ms } = yield* decodeQuery(DeliveryWaitQuery)
        const body = yield* decodeBody(LeadMessageBody)
        const idempotencyKey = yield* idempotencyKeyHeader
        yield* requireMain(caller, "message board leads")
        const board = yield* boardFor({ kind: "agent", agent: caller }, board_id)
        const { lead, created, sent } = yield* sendToLead(caller, board, body, idempotencyKey)
        return yield* answerSend(sent, wait_ms, { board_id, lead_agent_id: lead.id, lead_agent_name: lead.name, lead_created: created })
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/agent/gateway/leads/broadcast",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { wait_ms } = yield* decodeQuery(DeliveryWaitQuery)
        const body = yield* decodeBody(LeadBroadcastBody)
        const idempotencyKey = yield* idempotencyKeyHeader
        yield* requireMain(caller, "broadcast to board leads")
        const boards = yield* Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId: caller.gatewayId }))
        const wanted = body.board_ids === undefined ? boards.map((board) => board.id) : [...new Set(body.board_ids)]
        const ledger = yield* MessageLedger
        // Per board: one board's failure is its result, not the broadcast's.
        const recorded = yield* Effect.forEach(
          wanted,
          (boardId) => {
            const board = boards.find((candidate) => candidate.id === boardId)
            if (board === undefined) return Effect.succeed({ board_id: boardId, ok: false, error: "board not found on this gateway" } as const)
            return withCoordinationAnswers(sendToLead(caller, board, body, idempotencyKey === undefined ? undefined : `${idempotencyKey}:${board.id}`)).pipe(
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
              : Effect.map(wait_ms > 0 ? ledger.awaitSettled(result.sent.message.id, wait_ms) : Effect.succeed(result.sent.message), (message) => ({
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
        return json({ ok: true, sent, failed: results.length - sent, results })
      })
    )
  )
)
