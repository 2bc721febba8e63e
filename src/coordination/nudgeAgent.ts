import { Effect } from "effect"
import type { AgentRow } from "../store/AgentRepo.ts"
import { agentOnBoard, boardAsLead } from "./callerScope.ts"
import { sendFromAgent } from "./sendFromAgent.ts"

export interface NudgeRequest {
  readonly caller: AgentRow
  readonly boardId: string
  readonly targetAgentId: string
  readonly message: string
  readonly idempotencyKey?: string | undefined
}

/**
 * A lead nudges an agent of its board (`POST /api/v1/agent/boards/{b}/agents/{a}/nudge`,
 * docs/operations.md §6.11): a ledger message of kind `nudge`, delivered with `chat.send
 * {deliver: true}` into the target's session and retried by the delivery worker; the
 * `agent.nudge.sent` / `.failed` activity is recorded when it settles. Output: the target and
 * the ledger send. Errors: CoordinationRefused (403 not the board's lead, 404 board or target),
 * IdempotencyConflict, MessageTargetNotFound, SqlError.
 */
export const nudgeAgent = Effect.fn("Coordination.nudge")(function* (request: NudgeRequest) {
  const board = yield* boardAsLead(request.caller, request.boardId, "nudge its agents")
  const target = yield* agentOnBoard(board, request.targetAgentId)
  const sent = yield* sendFromAgent(request.caller, {
    targetAgentId: target.id,
    kind: "nudge",
    body: request.message,
    deliver: true,
    idempotencyKey: request.idempotencyKey
  })
  return { target, sent }
})
