import { randomUUID } from "node:crypto"
import { Effect, Option } from "effect"
import type { AgentRole, HeartbeatConfig, IdentityProfile } from "../../machines/agent/agentTypes.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import type { BoardRow } from "../store/BoardRepo.ts"
import { activeGateway } from "./activeGateway.ts"
import { AgentCreationRefused } from "./AgentCreationRefused.ts"
import { AgentSystem, type NewAgentRequest } from "./AgentSystem.ts"
import { DEFAULT_HEARTBEAT } from "./defaultHeartbeat.ts"

export { AgentCreationRefused }

export interface NewAgentFields {
  readonly name: string
  readonly role: Exclude<AgentRole, "main">
  readonly heartbeat?: HeartbeatConfig | undefined
  readonly identityProfile?: IdentityProfile | null | undefined
  readonly identityTemplate?: string | null | undefined
  readonly soulTemplate?: string | null | undefined
  /** A lead's create: refused (`board_full`) when the board already has this many workers. */
  readonly workerCap?: number | undefined
  /** Take over an agent that already exists on the gateway instead of creating one (docs/operations.md §6.2 "Adopt"). */
  readonly adopt?: NewAgentRequest["adopt"]
}

const nameTaken = (name: string) => new AgentCreationRefused({ reason: "name_taken", detail: `an agent named "${name}" already exists on this gateway` })

/**
 * Creates an agent on `board` (its actor starts provisioning, docs/architecture.md §5.2) and
 * returns its id. Refusals change nothing: FieldInvalid (`gateway_id`: none),
 * GatewayDeleting, AgentCreationRefused `name_taken` (on the gateway), `lead_exists` (a second lead on the
 * board), `board_full` (over `workerCap`). Also SqlError, AgentPersistTimeout.
 */
export const createAgent = Effect.fn("Agents.create")(function* (board: BoardRow, fields: NewAgentFields) {
  yield* activeGateway(board.gatewayId)
  const repo = yield* AgentRepo
  if (yield* repo.nameTaken({ name: fields.name, gatewayId: board.gatewayId })) return yield* nameTaken(fields.name)
  if (fields.role === "lead" && Option.isSome(yield* repo.leadOf(board.id))) {
    return yield* new AgentCreationRefused({ reason: "lead_exists", detail: `board ${board.id} already has a lead; use POST /api/v1/boards/${board.id}/lead` })
  }
  const agentId = randomUUID()
  const system = yield* AgentSystem
  yield* system
    .create({
      agentId,
      gatewayId: board.gatewayId,
      boardId: board.id,
      role: fields.role,
      workerCap: fields.workerCap,
      ...(fields.adopt === undefined ? {} : { adopt: fields.adopt }),
      spec: {
        name: fields.name,
        heartbeat: fields.heartbeat ?? DEFAULT_HEARTBEAT,
        identityProfile: fields.identityProfile ?? null,
        identityTemplate: fields.identityTemplate ?? null,
        soulTemplate: fields.soulTemplate ?? null
      }
    })
    .pipe(Effect.catchTag("BoardFull", (full) => Effect.fail(new AgentCreationRefused({ reason: "board_full", detail: full.message }))))
  return agentId
})

/**
 * A rename: refused `name_taken` if the name is taken on the gateway, else claimed in the
 * database at once. Errors also AgentNotFound / AgentsRestoring (no running actor), SqlError.
 */
export const claimName = Effect.fn("Agents.claimName")(function* (agent: { id: string; gatewayId: string }, name: string) {
  // Claim only for a running actor: a claim whose rename event cannot be sent would leave the
  // old name free in the database but still in the actor's snapshot, which could then never save.
  yield* Effect.flatMap(AgentSystem, (system) => system.requireActor(agent.id))
  const repo = yield* AgentRepo
  if (yield* repo.nameTaken({ name, gatewayId: agent.gatewayId, exceptId: agent.id })) return yield* nameTaken(name)
  yield* repo.claimName(agent.id, name)
})
