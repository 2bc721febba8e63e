import { Effect } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import { boardAsLead, mainAgentOf } from "./callerScope.ts"
import { askUserText, type ReplyRouting } from "./messageTexts.ts"
import { sendFromAgent } from "./sendFromAgent.ts"

export interface AskUserRequest extends ReplyRouting {
  readonly caller: AgentRow
  readonly boardId: string
  readonly content: string
  readonly preferredChannel?: string | undefined
  readonly idempotencyKey?: string | undefined
}

/**
 * A lead asks the human through the gateway-main agent (`POST
 * /api/v1/agent/boards/{b}/gateway/main/ask-user`, docs/operations.md §6.11): a ledger message
 * of kind `ask_user` with the "LEAD REQUEST: ASK USER" text to the main session, `deliver:
 * true`, telling the main agent to answer with a non-chat board memory item. Output: the board,
 * the main agent and the ledger send. Errors: CoordinationRefused (403 not the lead, 404 board,
 * 422 no main agent), IdempotencyConflict, MessageTargetNotFound, SqlError.
 */
export const askUser = Effect.fn("Coordination.askUser")(function* (request: AskUserRequest) {
  const board = yield* boardAsLead(request.caller, request.boardId, "ask the user")
  const main = yield* mainAgentOf(board)
  const { baseUrl } = yield* AppConfig
  const sent = yield* sendFromAgent(request.caller, {
    targetAgentId: main.id,
    kind: "ask_user",
    body: askUserText(baseUrl, board, request.caller.name, request.content, request),
    deliver: true,
    idempotencyKey: request.idempotencyKey
  })
  return { board, main, sent }
})
