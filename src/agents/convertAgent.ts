import { Effect, Option } from "effect"
import type { ConvertedIdentity } from "../../machines/agent/agentTypes.ts"
import { AgentRepo, type AgentRow } from "../store/AgentRepo.ts"
import { activeGateway, namedBoard } from "./activeGateway.ts"
import { FieldInvalid, MainAgentTaken } from "./AgentChangeErrors.ts"
import { gatewayAgentIdFor, sessionKeyFor } from "./naming.ts"

/** The identity `agent` takes as the gateway-main agent, or as a worker on `boardId`. */
const identityFor = (agent: AgentRow, boardId: string | null): ConvertedIdentity => {
  const role = boardId === null ? "main" : "worker"
  const gatewayAgentId = gatewayAgentIdFor(role, { agentId: agent.id, boardId, gatewayId: agent.gatewayId })
  return { role, boardId, gatewayAgentId, sessionKey: sessionKeyFor(gatewayAgentId) }
}

/** A conversion decided but not applied: the identity to claim, and whether the agent's tasks are released (it leaves its board). */
export interface PlannedConversion {
  readonly identity: ConvertedIdentity
  readonly releaseTasks: boolean
}

/**
 * Checks a main⇄board conversion through `PATCH /agents/{id}` with `is_gateway_main`
 * (docs/operations.md §6.2) and says what it would change, changing nothing. The gateway must not
 * be being deleted. To main: the gateway must not have another main agent; the agent's tasks are
 * to be released, since a main agent has no board. To a board: `boardId` is required and must be
 * on the agent's gateway.
 * Converting to what the agent already is plans nothing (`None`). `updateAgent` claims the
 * identity in the read model (so a race for the one main slot is a 409) and then sends
 * `agent.convert`: the actor applies the agent under its new gateway agent id and removes the old one.
 * Errors: MainAgentTaken, FieldInvalid (`board_id`; `gateway_id`), GatewayDeleting, SqlError.
 */
export const planConversion = (agent: AgentRow, toMain: boolean, boardId: string | undefined) =>
  Effect.gen(function* () {
    if (toMain === (agent.role === "main")) return Option.none<PlannedConversion>()
    yield* activeGateway(agent.gatewayId)
    if (toMain) {
      const main = yield* Effect.flatMap(AgentRepo, (repo) => repo.mainOf(agent.gatewayId))
      if (Option.isSome(main)) return yield* new MainAgentTaken({ gatewayId: agent.gatewayId, mainId: main.value.id })
      return Option.some<PlannedConversion>({ identity: identityFor(agent, null), releaseTasks: true })
    }
    if (boardId === undefined) return yield* new FieldInvalid({ field: "board_id", problem: "required to convert the gateway-main agent to a board agent" })
    const board = yield* namedBoard(boardId)
    if (board.gatewayId !== agent.gatewayId) return yield* new FieldInvalid({ field: "board_id", problem: `board ${boardId} is on another gateway` })
    return Option.some<PlannedConversion>({ identity: identityFor(agent, board.id), releaseTasks: false })
  })
