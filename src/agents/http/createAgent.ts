import { randomUUID } from "node:crypto"
import { Effect, Option } from "effect"
import type { AgentRole, HeartbeatConfig, IdentityProfile } from "../../../machines/agent/agentTypes.ts"
import { DEFAULT_HEARTBEAT } from "../defaultHeartbeat.ts"
import { AgentSystem } from "../AgentSystem.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import type { BoardRow } from "../../store/BoardRepo.ts"
import { conflict } from "../../http/ApiError.ts"
import { activeGateway } from "../../http/lookups.ts"


export interface NewAgentFields {
  readonly name: string
  readonly role: Exclude<AgentRole, "main">
  readonly heartbeat?: HeartbeatConfig | undefined
  readonly identityProfile?: IdentityProfile | null | undefined
  readonly identityTemplate?: string | null | undefined
  readonly soulTemplate?: string | null | undefined
  /** A lead's create: refused with 409 when the board already has this many workers. */
  readonly workerCap?: number | undefined
}

/**
 * Creates an agent on `board` (its actor starts provisioning) and returns its id. A name taken
 * on the gateway, a second lead on the board, or a gateway being deleted is a 409 that creates nothing.
 */
export const createAgent = (board: BoardRow, fields: NewAgentFields) =>
  Effect.gen(function* () {
    yield* activeGateway(board.gatewayId)
    const repo = yield* AgentRepo
    if (yield* repo.nameTaken({ name: fields.name, gatewayId: board.gatewayId })) {
      return yield* conflict(`an agent named "${fields.name}" already exists on this gateway`)
    }
    if (fields.role === "lead" && Option.isSome(yield* repo.leadOf(board.id))) {
      return yield* conflict(`board ${board.id} already has a lead; use POST /api/v1/boards/${board.id}/lead`)
    }
    const agentId = randomUUID()
    yield* Effect.flatMap(AgentSystem, (system) =>
      system.create({
        agentId,
        gatewayId: board.gatewayId,
        boardId: board.id,
        role: fields.role,
        workerCap: fields.workerCap,
        spec: {
          name: fields.name,
          heartbeat: fields.heartbeat ?? DEFAULT_HEARTBEAT,
          identityProfile: fields.identityProfile ?? null,
          identityTemplate: fields.identityTemplate ?? null,
          soulTemplate: fields.soulTemplate ?? null
        }
      }).pipe(Effect.catchTag("BoardFull", (full) => conflict(full.message)))
    )
    return agentId
  })

/** A rename: 409 if the name is taken on the gateway, else claimed in the database at once. */
export const claimName = (agent: { id: string; gatewayId: string }, name: string) =>
  Effect.gen(function* () {
    // Claim only for a running actor: a claim whose rename event cannot be sent would leave the
    // old name free in the database but still in the actor's snapshot, which could then never save.
    yield* Effect.flatMap(AgentSystem, (system) => system.requireActor(agent.id))
    const repo = yield* AgentRepo
    if (yield* repo.nameTaken({ name, gatewayId: agent.gatewayId, exceptId: agent.id })) {
      return yield* conflict(`an agent named "${name}" already exists on this gateway`)
    }
    yield* repo.claimName(agent.id, name)
  })
