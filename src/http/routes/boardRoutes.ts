import { randomUUID } from "node:crypto"
import { HttpRouter } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import type { AgentUpdateChanges } from "../../../machines/agent/agentTypes.ts"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { BoardRepo, type BoardChanges } from "../../store/BoardRepo.ts"
import { conflict, notFound } from "../ApiError.ts"
import { answerAgent, checkWaitFor } from "../../agents/http/answerAgent.ts"
import { BoardCreate, BoardQuery, BoardUpdate, IdParams, LeadEnsure, WaitQuery } from "../contract.ts"
import { claimName } from "../../agents/http/createAgent.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { admin } from "../admin.ts"
import { toResponse } from "../serve.ts"
import { ensureBoardLead } from "../../agents/http/ensureBoardLead.ts"
import { activeGateway, existingBoard } from "../lookups.ts"
import { json } from "../respond.ts"
import { boardView } from "../views.ts"

/** A lead's identity unless the operator gives one (docs/operations.md §6.1). */
const settingsOf = (body: {
  board_type?: "goal" | "general" | undefined
  objective?: string | null | undefined
  success_metrics?: Record<string, unknown> | null | undefined
  target_date?: string | null | undefined
  goal_confirmed?: boolean | undefined
  max_agents?: number | undefined
  paused?: boolean | undefined
}): BoardChanges => ({
  ...(body.board_type === undefined ? {} : { boardType: body.board_type }),
  ...(body.objective === undefined ? {} : { objective: body.objective }),
  ...(body.success_metrics === undefined ? {} : { successMetrics: body.success_metrics }),
  ...(body.target_date === undefined ? {} : { targetDate: body.target_date }),
  ...(body.goal_confirmed === undefined ? {} : { goalConfirmed: body.goal_confirmed }),
  ...(body.max_agents === undefined ? {} : { maxAgents: body.max_agents }),
  ...(body.paused === undefined ? {} : { paused: body.paused })
})

/** `/api/v1/boards` (admin): a board belongs to one gateway; it has a goal, a worker cap and one lead. */
export const boardRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/boards",
    admin(
      Effect.gen(function* () {
        const body = yield* decodeBody(BoardCreate)
        yield* activeGateway(body.gateway_id)
        const row = yield* Effect.flatMap(BoardRepo, (repo) =>
          repo.insert({ id: randomUUID(), gatewayId: body.gateway_id, name: body.name, ...settingsOf(body) })
        )
        return json(boardView(row), 201)
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/boards",
    admin(
      Effect.gen(function* () {
        const query = yield* decodeQuery(BoardQuery)
        const rows = yield* Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId: query.gateway_id }))
        return json({ items: rows.map(boardView), total: rows.length })
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/boards/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        return json(boardView(yield* existingBoard(id)))
      })
    )
  ),
  HttpRouter.patch(
    "/api/v1/boards/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const body = yield* decodeBody(BoardUpdate)
        const row = yield* Effect.flatMap(BoardRepo, (repo) => repo.update(id, { ...settingsOf(body), ...(body.name === undefined ? {} : { name: body.name }) }))
        if (Option.isNone(row)) return yield* notFound("board")
        return json(boardView(row.value))
      })
    )
  ),
  HttpRouter.del(
    "/api/v1/boards/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        yield* existingBoard(id)
        const agents = yield* Effect.flatMap(AgentRepo, (repo) => repo.list({ boardId: id, limit: 1, offset: 0 }))
        if (agents.total > 0) return yield* conflict(`board has ${agents.total} agents; delete them first`)
        yield* Effect.flatMap(BoardRepo, (repo) => repo.remove(id))
        return json({ ok: true })
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/boards/:id/lead",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const wait = yield* decodeQuery(WaitQuery)
        yield* checkWaitFor(wait)
        const body = yield* decodeBody(LeadEnsure)
        const board = yield* existingBoard(id)
        const ensured = yield* ensureBoardLead(board, { name: body.name, heartbeat: body.heartbeat_config, identityProfile: body.identity_profile })
        if (ensured.created) return toResponse(yield* answerAgent(ensured.lead.id, wait, 201))
        const lead = ensured.lead.id
        // Reconcile: what the caller states is applied to the existing lead; nothing else changes.
        if (body.name !== undefined) yield* claimName({ id: lead, gatewayId: board.gatewayId }, body.name)
        const changes: AgentUpdateChanges = {
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(body.heartbeat_config === undefined ? {} : { heartbeat: body.heartbeat_config }),
          ...(body.identity_profile === undefined ? {} : { identityProfile: body.identity_profile })
        }
        if (Object.keys(changes).length > 0) {
          const at = yield* Clock.currentTimeMillis
          yield* Effect.flatMap(AgentSystem, (system) => system.send(lead, { type: "agent.update", at, changes }))
        }
        return toResponse(yield* answerAgent(lead, wait, 200))
      })
    )
  )
)
