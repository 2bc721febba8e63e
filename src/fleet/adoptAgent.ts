import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import type { HeartbeatConfig } from "../../machines/agent/agentTypes.ts"
import { AgentCreationRefused, createAgent } from "../agents/createAgent.ts"
import { GatewayDeleting, GatewayNotFound } from "../agents/GatewayRowErrors.ts"
import { gatewayCall } from "../agents/programs/gatewayCall.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { GatewayRepo, targetOf } from "../store/GatewayRepo.ts"
import { unavailable } from "./queryFailure.ts"

export interface Adoption {
  readonly gatewayId: string
  /** The agent's id on the gateway (as `agents.list` shows it). */
  readonly gatewayAgentId: string
  readonly boardId: string
  readonly name: string
  /** Keep the agent's workspace files (only AGENTS.md, its token and check-in, is written); false renders every file as a create does. */
  readonly keepFiles: boolean
  readonly heartbeat?: HeartbeatConfig | undefined
}

const refused = (reason: AgentCreationRefused["reason"], detail: string) => Effect.fail(new AgentCreationRefused({ reason, detail }))

/**
 * Takes an agent that already exists on the gateway under management as a worker of `boardId`
 * (docs/operations.md §6.2 "Adopt"; how an orphan listed by reconciliation is taken over, §8):
 * its actor gets that gateway agent id and provisions it without `agents.create`, keeping its
 * files unless `keepFiles` is false, then pushes the heartbeat config and wakes it as a create
 * does. Returns the new agent's id. Refusals change nothing: GatewayNotFound (404),
 * GatewayDeleting (409), AgentCreationRefused `board_missing` (no such board on this gateway),
 * `already_managed`, `no_such_gateway_agent` (not in `agents.list`), `not_adoptable` (the
 * gateway's default agent), and `createAgent`'s own (`name_taken`…); GatewayQueryUnavailable
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
  const sql = yield* SqlClient.SqlClient
  const managed = yield* sql<{ id: string }>`select id from agents where gateway_id = ${gatewayId} and gateway_agent_id = ${gatewayAgentId} and deleted_at is null`
  if (managed[0] !== undefined) return yield* refused("already_managed", `gateway agent "${gatewayAgentId}" is already managed as agent ${managed[0].id}`)
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
