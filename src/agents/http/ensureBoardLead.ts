import { Effect, Option } from "effect"
import type { HeartbeatConfig, IdentityProfile } from "../../../machines/agent/agentTypes.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import type { BoardRow } from "../../store/BoardRepo.ts"
import { isUniqueViolation } from "../../store/sqlErrors.ts"
import { notFound } from "../../http/ApiError.ts"
import { createAgent } from "../createAgent.ts"

/** A lead's identity unless the operator gives one. */
export const LEAD_PROFILE = { role: "Board Lead", communication_style: "direct, concise, decisive", emoji: ":compass:" }

/** What an ensure may state for a lead it creates (defaults: "<board> Lead", `LEAD_PROFILE`). */
export interface LeadFields {
  readonly name?: string | undefined
  readonly heartbeat?: HeartbeatConfig | undefined
  readonly identityProfile?: IdentityProfile | null | undefined
}

/**
 * The board's lead, created if it has none (docs/operations.md §6.1, §6.2;
 * `POST /api/v1/boards/{id}/lead` and the main agent's lead message): provisioned by its actor.
 * An existing lead is returned as it is. Two concurrent ensures converge on one lead.
 * Output: the lead's read model and whether this call created it. Errors: AgentCreationRefused (409 name
 * taken or gateway being deleted), SqlError, AgentPersistTimeout.
 */
export const ensureBoardLead = (board: BoardRow, fields: LeadFields = {}) =>
  Effect.gen(function* () {
    const repo = yield* AgentRepo
    const existing = yield* repo.leadOf(board.id)
    const ensured = Option.isSome(existing)
      ? { agentId: existing.value, created: false }
      : yield* createAgent(board, {
          name: fields.name ?? `${board.name} Lead`,
          role: "lead",
          heartbeat: fields.heartbeat,
          identityProfile: fields.identityProfile === undefined ? LEAD_PROFILE : fields.identityProfile
        }).pipe(
          Effect.map((agentId) => ({ agentId, created: true })),
          // The loser of a race answers with the winner's lead.
          Effect.catchIf(
            (error) => (error._tag === "SqlError" && isUniqueViolation(error)) || (error._tag === "AgentCreationRefused" && error.reason !== "gateway_missing"),
            (error) => Effect.flatMap(repo.leadOf(board.id), (winner) => (Option.isSome(winner) ? Effect.succeed({ agentId: winner.value, created: false }) : Effect.fail(error)))
          )
        )
    const lead = yield* repo.get(ensured.agentId)
    if (Option.isNone(lead)) return yield* notFound("board lead")
    return { lead: lead.value, created: ensured.created }
  })
