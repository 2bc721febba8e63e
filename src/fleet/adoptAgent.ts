import { Effect, Option } from "effect"
import type { HeartbeatConfig } from "../../machines/agent/agentTypes.ts"
import { AgentCreationRefused, createAgent } from "../agents/createAgent.ts"
import { GatewayDeleting, GatewayNotFound } from "../agents/GatewayRowErrors.ts"
import { gatewayAgentIdFor } from "../agents/naming.ts"
import { gatewayCall } from "../agents/programs/gatewayCall.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { GatewayRepo, targetOf } from "../store/GatewayRepo.ts"
import { unavailable } from "./queryFailure.ts"

export interface Adoption {
  readonly gatewayId: string
  /** The agent's id on the gateway (as `agents.list` shows it). */
  readonly gatewayAgentId: string
  readonly boardId: string
  readonly name: string
  /**
   * Keep the agent's workspace files (only AGENTS.md, its token and check-in, is written); false
   * renders AGENTS.md, SOUL.md and IDENTITY.md as a create does, keeps the USER.md and MEMORY.md
   * the agent has, and sends no BOOTSTRAP.md (docs/operations.md §6.2 "Adopt").
   */
  readonly keepFiles: boolean
  readonly heartbeat?: HeartbeatConfig | undefined
}

/** The id prefixes the naming contract keeps for board leads and gateway-main agents (docs/architecture.md §5.1). */
const RESERVED = [
  { prefix: gatewayAgentIdFor("lead", { agentId: "", boardId: "", gatewayId: "" }), holder: "a board lead" },
  { prefix: gatewayAgentIdFor("main", { agentId: "", boardId: null, gatewayId: "" }), holder: "a gateway's main agent" }
]

/** What holds `gatewayAgentId` by the naming contract, when it is reserved (`lead-…`, `mc-gateway-…`). */
export const reservedFor = (gatewayAgentId: string): string | undefined => RESERVED.find(({ prefix }) => gatewayAgentId.startsWith(prefix))?.holder

const refused = (reason: AgentCreationRefused["reason"], detail: string) => Effect.fail(new AgentCreationRefused({ reason, detail }))

/**
 * Takes an agent that already exists on the gateway under management as a worker of `boardId`
 * (docs/operations.md §6.2 "Adopt"; how an orphan listed by reconciliation is taken over, §8):
 * its actor gets that gateway agent id and provisions it without `agents.create`, keeping its
 * files unless `keepFiles` is false, then pushes the heartbeat config and wakes it as a create
 * does. Returns the new agent's id. Refusals change nothing: GatewayNotFound (404),
 * GatewayDeleting (409), AgentCreationRefused `board_missing` (no such board on this gateway),
 * `already_managed` (also an id a conversion retires), `no_such_gateway_agent` (not in `agents.list`), `not_adoptable` (the
 * gateway's default agent, or an id reserved for a lead or main agent), and `createAgent`'s own (`name_taken`…); GatewayQueryUnavailable
 * when `agents.list` cannot be read (502); SqlError, AgentPersistTimeout.
 */
export const adoptAgent = Effect.fn("Fleet.adoptAgent")(function* (adoption: Adoption) {
  const { gatewayId, gatewayAgentId } = adoption
  const gateways = yield* GatewayRepo
  const gateway = yield* gateways.get(gatewayId)
  if (Option.isNone(gateway)) return yield* new GatewayNotFound({ gatewayId })
  if (gateway.value.deletingAt !== null) return yield* new GatewayDeleting({ gatewayId })
  const board = yield* Effect.flatMap(BoardRepo, (repo) => repo.get(adoption.boardId))
  if (Option.isNone(board) || board.value.gatewayId !== gatewayId) return yield* refused("board_missing", `board_id: no board ${adoption.boardId} on gateway ${gatewayId}`)
  // Ours too: the old gateway agent of a conversion not yet applied, which its apply removes.
  const holder = yield* Effect.flatMap(AgentRepo, (repo) => repo.holderOf(gatewayId, gatewayAgentId))
  if (Option.isSome(holder)) {
    const { id, retired } = holder.value
    const how = retired ? "the old identity of agent" : "already managed as agent"
    return yield* refused("already_managed", `gateway agent "${gatewayAgentId}" is ${how} ${id}${retired ? ", which removes it once its conversion is applied" : ""}`)
  }
  // Held by a worker, the id would block that lead's or main agent's create for good (unique gateway agent id).
  const reserved = reservedFor(gatewayAgentId)
  if (reserved !== undefined) {
    return yield* refused("not_adoptable", `gateway_agent_id: "${gatewayAgentId}" is reserved for ${reserved} (lead-<board id>, mc-gateway-<gateway id>); it cannot be adopted as a worker`)
  }
  const target = targetOf(gateway.value, { onDeviceToken: (token) => gateways.setDeviceToken(gatewayId, token) })
  const listed = yield* gatewayCall(target, "agents.list", {}).pipe(Effect.mapError((error) => unavailable(gatewayId, "agents.list", error)))
  if (!listed.agents.some((agent) => agent.id === gatewayAgentId)) {
    return yield* refused("no_such_gateway_agent", `gateway_agent_id: gateway ${gatewayId} has no agent "${gatewayAgentId}" (agents.list)`)
  }
  // The default agent cannot be deleted on the gateway (docs/gateway-protocol.md §5 agents.delete), so a board agent it cannot be.
  if (listed.defaultId === gatewayAgentId) return yield* refused("not_adoptable", `gateway_agent_id: "${gatewayAgentId}" is the gateway's default agent; it cannot be adopted`)
  return yield* createAgent(board.value, {
    name: adoption.name,
    role: "worker",
    heartbeat: adoption.heartbeat,
    adopt: { gatewayAgentId, keepFiles: adoption.keepFiles }
  })
})
