import { Effect, Option } from "effect"
import type { HeartbeatConfig, IdentityProfile } from "../../machines/agent/agentTypes.ts"
import { AgentNotFound } from "../agents/AgentSystemErrors.ts"
import { createAgent } from "../agents/createAgent.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import type { BoardRow } from "../store/BoardRepo.ts"

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
 * An existing lead is returned as it is. Two concurrent ensures converge on one lead: a create
 * that fails while another lead now exists answers with that lead (the winner of the race).
 * Output: the lead's read model and whether this call created it. Errors: AgentCreationRefused
 * (name taken, gateway being deleted), AgentNotFound (the lead was deleted meanwhile), SqlError,
 * AgentPersistTimeout.
 */
export const ensureBoardLead = Effect.fn("Boards.ensureLead")(function* (board: BoardRow, fields: LeadFields = {}) {
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
        // A create accepted but not yet saved did create the lead: that is not a lost race.
        Effect.catchIf(
          (error) => error._tag !== "AgentPersistTimeout",
          (error) => Effect.flatMap(repo.leadOf(board.id), (winner) => (Option.isSome(winner) ? Effect.succeed({ agentId: winner.value, created: false }) : Effect.fail(error)))
        )
      )
  const lead = yield* repo.get(ensured.agentId)
  if (Option.isNone(lead)) return yield* new AgentNotFound({ agentId: ensured.agentId })
  return { lead: lead.value, created: ensured.created }
})
