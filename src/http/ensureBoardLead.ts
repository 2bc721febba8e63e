import { Effect, Option } from "effect"
import { AgentRepo } from "../store/AgentRepo.ts"
import type { BoardRow } from "../store/BoardRepo.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"
import { notFound } from "./ApiError.ts"
import { createAgent } from "./createAgent.ts"

/** A lead's identity unless the operator gives one (the same as `POST /boards/{id}/lead`). */
const LEAD_PROFILE = { role: "Board Lead", communication_style: "direct, concise, decisive", emoji: ":compass:" }

/**
 * The board's lead, created if it has none (Mission Control `ensure_board_lead_agent`, as
 * `POST /api/v1/boards/{id}/lead` does it: named "<board> Lead", provisioned by its actor).
 * Two concurrent ensures converge on one lead. Output: the lead's read model and whether this
 * call created it. Errors: ApiError (409 name taken or gateway being deleted), SqlError,
 * AgentPersistTimeout.
 */
export const ensureBoardLead = (board: BoardRow) =>
  Effect.gen(function* () {
    const repo = yield* AgentRepo
    const existing = yield* repo.leadOf(board.id)
    const ensured = Option.isSome(existing)
      ? { agentId: existing.value, created: false }
      : yield* createAgent(board, { name: `${board.name} Lead`, role: "lead", identityProfile: LEAD_PROFILE }).pipe(
          Effect.map((agentId) => ({ agentId, created: true })),
          // The loser of a race answers with the winner's lead.
          Effect.catchIf(
            (error) => (error._tag === "SqlError" && isUniqueViolation(error)) || (error._tag === "ApiError" && error.status === 409),
            (error) => Effect.flatMap(repo.leadOf(board.id), (winner) => (Option.isSome(winner) ? Effect.succeed({ agentId: winner.value, created: false }) : Effect.fail(error)))
          )
        )
    const lead = yield* repo.get(ensured.agentId)
    if (Option.isNone(lead)) return yield* notFound("board lead")
    return { lead: lead.value, created: ensured.created }
  })
