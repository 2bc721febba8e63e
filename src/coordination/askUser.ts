import { Effect } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { MessageLedger } from "../messages/MessageLedger.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import { boardFor, mainAgentOf, requireLead } from "./callerScope.ts"
import { askUserText, type ReplyRouting } from "./messageTexts.ts"

export interface AskUserRequest extends ReplyRouting {
  readonly caller: AgentRow
  readonly boardId: string
  readonly content: string
  readonly preferredChannel?: string | undefined
  readonly idempotencyKey?: string | undefined
}

/**
 * A lead asks the human through the gateway-main agent (Mission Control `POST
 * /agent/boards/{b}/gateway/main/ask-user`, seed `ask_user_via_gateway_main`): a ledger message
 * of kind `ask_user` with the "LEAD REQUEST: ASK USER" text to the main session, `deliver:
 * true`, telling the main agent to answer with a non-chat board memory item. Output: the board,
 * the main agent and the ledger send. Errors: CoordinationRefused (403 not the lead, 404 board,
 * 422 no main agent), MessageIdempotencyConflict, MessageTargetNotFound, SqlError.
 */
export const askUser = Effect.fn("Coordination.askUser")(function* (request: AskUserRequest) {
  const board = yield* boardFor({ kind: "agent", agent: request.caller }, request.boardId)
  yield* requireLead(request.caller, board, "ask the user")
  const main = yield* mainAgentOf(board)
  const { baseUrl } = yield* AppConfig
  const sent = yield* Effect.flatMap(MessageLedger, (ledger) =>
    ledger.send({
      targetAgentId: main.id,
      sender: { kind: "agent", agentId: request.caller.id },
      kind: "ask_user",
      channel: "gateway",
      body: askUserText(baseUrl, board, request.caller.name, request.content, request),
      deliver: true,
      idempotencyKey: request.idempotencyKey
    })
  )
  return { board, main, sent }
})
