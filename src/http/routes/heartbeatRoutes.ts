import { HttpRouter } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { BoardRepo } from "../../store/BoardRepo.ts"
import { ApiError, invalid } from "../ApiError.ts"
import { answerAgent } from "../answerAgent.ts"
import { createAgent } from "../createAgent.ts"
import { authenticate, requireAgent } from "../auth.ts"
import { HeartbeatBody, HeartbeatOrCreateBody, IdParams } from "../contract.ts"
import { decodeBody, decodeParams } from "../decode.ts"
import { handle } from "../respond.ts"

const NO_WAIT = { timeout_ms: 0 } as const

/** Sends `agent.heartbeat` and answers with the persisted read model. */
const beat = (agentId: string, status: string | undefined) =>
  Effect.gen(function* () {
    const at = yield* Clock.currentTimeMillis
    yield* Effect.flatMap(AgentSystem, (system) => system.send(agentId, { type: "agent.heartbeat", at, status }))
    return yield* answerAgent(agentId, NO_WAIT)
  })

/**
 * Heartbeats are events (docs/operations.md §6.2): an agent heartbeats only itself, with its
 * `X-Agent-Token`; the admin may heartbeat any agent, and heartbeat-or-create by name.
 */
export const heartbeatRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/agent/heartbeat",
    handle(
      Effect.gen(function* () {
        const agentId = yield* requireAgent
        const body = yield* decodeBody(HeartbeatBody)
        return yield* beat(agentId, body.status)
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/agents/heartbeat",
    handle(
      Effect.gen(function* () {
        const caller = yield* authenticate
        const body = yield* decodeBody(HeartbeatOrCreateBody)
        // An agent heartbeats itself; `name` and `board_id` are ignored (docs/operations.md §6.2).
        if (caller.kind === "agent") return yield* beat(caller.agentId, body.status)
        if (body.board_id === undefined) return yield* invalid("board_id: required to find or create an agent by name")
        const board = yield* Effect.flatMap(BoardRepo, (repo) => repo.get(body.board_id!))
        if (Option.isNone(board)) return yield* invalid(`board_id: no board ${body.board_id}`)
        const existing = yield* Effect.flatMap(AgentRepo, (repo) =>
          repo.findByName({ name: body.name, boardId: board.value.id, gatewayId: board.value.gatewayId })
        )
        if (Option.isSome(existing)) return yield* beat(existing.value, body.status)
        const agentId = yield* createAgent(board.value, { name: body.name, role: "worker" })
        return yield* answerAgent(agentId, NO_WAIT, 201)
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/agents/:id/heartbeat",
    handle(
      Effect.gen(function* () {
        const caller = yield* authenticate
        const { id } = yield* decodeParams(IdParams)
        if (caller.kind === "agent" && caller.agentId !== id) {
          return yield* new ApiError({ status: 403, detail: "an agent may only heartbeat itself" })
        }
        const body = yield* decodeBody(HeartbeatBody)
        return yield* beat(id, body.status)
      })
    )
  )
)
