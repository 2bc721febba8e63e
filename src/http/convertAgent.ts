import { Clock, Effect, Option } from "effect"
import type { ConvertedIdentity } from "../../machines/agent/agentTypes.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { gatewayAgentIdFor, sessionKeyFor } from "../agents/naming.ts"
import { AgentRepo, type AgentRow } from "../store/AgentRepo.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"
import { TaskRepo } from "../store/TaskRepo.ts"
import { conflict, invalid } from "./ApiError.ts"
import { activeGateway, boardOrInvalid } from "./lookups.ts"

/** The identity `agent` takes as the gateway-main agent, or as a worker on `boardId`. */
const identityFor = (agent: AgentRow, boardId: string | null): ConvertedIdentity => {
  const role = boardId === null ? "main" : "worker"
  const gatewayAgentId = gatewayAgentIdFor(role, { agentId: agent.id, boardId, gatewayId: agent.gatewayId })
  return { role, boardId, gatewayAgentId, sessionKey: sessionKeyFor(gatewayAgentId) }
}

/**
 * Main⇄board conversion through `PATCH /agents/{id}` with `is_gateway_main` (reference §1.4).
 * To main: the gateway must not have another main agent (409); the agent's tasks are released,
 * since a main agent has no board. To a board: `boardId` is required (422) and must be on the
 * agent's gateway. The new identity is claimed in the read model first, so a race for the one
 * main slot is a 409, then `agent.convert` is sent: the actor applies the agent under its new
 * gateway agent id and removes the old one. Converting to what the agent already is does nothing.
 * Output: whether a conversion was sent. Errors: ApiError (409, 422), AgentNotFound, AgentsRestoring,
 * AgentPersistTimeout, SqlError.
 */
export const convertAgent = (agent: AgentRow, toMain: boolean, boardId: string | undefined) =>
  Effect.gen(function* () {
    if (toMain === (agent.role === "main")) return false
    yield* activeGateway(agent.gatewayId)
    const repo = yield* AgentRepo
    let identity: ConvertedIdentity
    if (toMain) {
      const main = yield* repo.mainOf(agent.gatewayId)
      if (Option.isSome(main)) return yield* conflict(`gateway ${agent.gatewayId} already has a main agent (${main.value.id}); convert it to a board agent first`)
      identity = identityFor(agent, null)
    } else {
      if (boardId === undefined) return yield* invalid("board_id: required to convert the gateway-main agent to a board agent")
      const board = yield* boardOrInvalid(boardId)
      if (board.gatewayId !== agent.gatewayId) return yield* invalid(`board_id: board ${boardId} is on another gateway`)
      identity = identityFor(agent, board.id)
    }
    const system = yield* AgentSystem
    yield* system.requireActor(agent.id)
    yield* repo.claimIdentity(agent.id, identity).pipe(
      Effect.catchIf(isUniqueViolation, () => conflict(`gateway ${agent.gatewayId} already has a main agent`))
    )
    if (toMain) yield* Effect.flatMap(TaskRepo, (tasks) => tasks.releaseAgent(agent.id))
    yield* system.send(agent.id, { type: "agent.convert", at: yield* Clock.currentTimeMillis, identity })
    return true
  })
