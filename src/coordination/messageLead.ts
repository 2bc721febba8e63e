import { Effect } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import type { BoardRow } from "../store/BoardRepo.ts"
import { leadMessageText, type ReplyRouting } from "./messageTexts.ts"
import { sendFromAgent } from "./sendFromAgent.ts"

export interface LeadMessageRequest extends ReplyRouting {
  /** The gateway-main agent (checked by the caller with `requireMain`). */
  readonly caller: AgentRow
  readonly board: BoardRow
  /** The board's lead, ensured to exist (created if it was missing) before this is called. */
  readonly lead: AgentRow
  readonly kind: "question" | "handoff"
  readonly content: string
  readonly idempotencyKey?: string | undefined
}

/**
 * The gateway-main agent's question or handoff to a board lead (`POST
 * /api/v1/agent/gateway/boards/{b}/lead/message`, docs/operations.md §6.11): a ledger message
 * of kind `lead_question` / `lead_handoff` with the "GATEWAY MAIN QUESTION/HANDOFF" text,
 * `deliver: false`. A lead created just before is delivered to once it is provisioned (the
 * delivery worker waits for that). Errors: IdempotencyConflict, MessageTargetNotFound, SqlError.
 */
export const messageLead = Effect.fn("Coordination.messageLead")(function* (request: LeadMessageRequest) {
  const { baseUrl } = yield* AppConfig
  return yield* sendFromAgent(request.caller, {
    targetAgentId: request.lead.id,
    kind: `lead_${request.kind}`,
    body: leadMessageText(baseUrl, request.board, request.caller.name, request.kind, request.content, request),
    deliver: false,
    idempotencyKey: request.idempotencyKey
  })
})
