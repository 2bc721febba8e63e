import { randomUUID } from "node:crypto"
import { Clock, Effect, Option } from "effect"
import type { AgentUpdateChanges } from "../../../machines/agent/agentTypes.ts"
import { answerAgent, checkWaitFor } from "../../agents/http/answerAgent.ts"
import { claimName } from "../../agents/createAgent.ts"
import { ensureBoardLead } from "../ensureBoardLead.ts"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { conflict, invalid, notFound } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { activeGateway, existingBoard } from "../../http/lookups.ts"
import { serve } from "../../http/serve.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { BoardRepo, type BoardChanges } from "../../store/BoardRepo.ts"
import { TaskRepo } from "../../store/TaskRepo.ts"
import type { BoardSettings } from "./boardRequests.ts"
import { boardsApi } from "./boardsApi.ts"
import { boardView, taskView } from "./BoardView.ts"

/** The board settings a body states (docs/operations.md §6.15); what it leaves out is not changed. */
const settingsOf = (body: BoardSettings): BoardChanges => ({
  ...(body.board_type === undefined ? {} : { boardType: body.board_type }),
  ...(body.objective === undefined ? {} : { objective: body.objective }),
  ...(body.success_metrics === undefined ? {} : { successMetrics: body.success_metrics }),
  ...(body.target_date === undefined ? {} : { targetDate: body.target_date }),
  ...(body.goal_confirmed === undefined ? {} : { goalConfirmed: body.goal_confirmed }),
  ...(body.max_agents === undefined ? {} : { maxAgents: body.max_agents }),
  ...(body.paused === undefined ? {} : { paused: body.paused })
})

/** A task may be assigned only to a live agent of its own board (422 otherwise). */
const checkAssignee = (boardId: string, agentId: string | null | undefined) =>
  agentId === null || agentId === undefined
    ? Effect.void
    : Effect.flatMap(AgentRepo, (repo) => repo.get(agentId)).pipe(
        Effect.flatMap((agent) => (Option.isSome(agent) && agent.value.boardId === boardId ? Effect.void : Effect.fail(invalid(`assigned_agent_id: no agent ${agentId} on this board`))))
      )

/** The handlers of `boardsApi`. */
export const boardsHttp = serve(boardsApi, {
  createBoard: ({ body }) =>
    Effect.gen(function* () {
      yield* activeGateway(body.gateway_id)
      const row = yield* Effect.flatMap(BoardRepo, (repo) => repo.insert({ id: randomUUID(), gatewayId: body.gateway_id, name: body.name, ...settingsOf(body) }))
      return reply(201, boardView(row))
    }),
  listBoards: ({ query }) => Effect.map(Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId: query.gateway_id })), (rows) => reply(200, { items: rows.map(boardView), total: rows.length })),
  getBoard: ({ params }) => Effect.map(existingBoard(params.id), (row) => reply(200, boardView(row))),
  updateBoard: ({ params, body }) =>
    Effect.gen(function* () {
      const row = yield* Effect.flatMap(BoardRepo, (repo) => repo.update(params.id, { ...settingsOf(body), ...(body.name === undefined ? {} : { name: body.name }) }))
      if (Option.isNone(row)) return yield* notFound("board")
      return reply(200, boardView(row.value))
    }),
  deleteBoard: ({ params }) =>
    Effect.gen(function* () {
      yield* existingBoard(params.id)
      const agents = yield* Effect.flatMap(AgentRepo, (repo) => repo.list({ boardId: params.id, limit: 1, offset: 0 }))
      if (agents.total > 0) return yield* conflict(`board has ${agents.total} agents; delete them first`)
      yield* Effect.flatMap(BoardRepo, (repo) => repo.remove(params.id))
      return reply(200, { ok: true as const })
    }),
  ensureBoardLead: ({ params, query, body }) =>
    Effect.gen(function* () {
      yield* checkWaitFor(query)
      const board = yield* existingBoard(params.id)
      const ensured = yield* ensureBoardLead(board, { name: body.name, heartbeat: body.heartbeat_config, identityProfile: body.identity_profile })
      if (ensured.created) return yield* answerAgent(ensured.lead.id, query, 201)
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
      return yield* answerAgent(lead, query, 200)
    }),
  createTask: ({ params, body }) =>
    Effect.gen(function* () {
      yield* existingBoard(params.id)
      yield* checkAssignee(params.id, body.assigned_agent_id)
      const row = yield* Effect.flatMap(TaskRepo, (repo) => repo.insert({ id: randomUUID(), boardId: params.id, title: body.title, status: body.status, assignedAgentId: body.assigned_agent_id }))
      return reply(201, taskView(row))
    }),
  listTasks: ({ params, query }) =>
    Effect.gen(function* () {
      yield* existingBoard(params.id)
      const rows = yield* Effect.flatMap(TaskRepo, (repo) => repo.list({ boardId: params.id, status: query.status, assignedAgentId: query.assigned_agent_id }))
      return reply(200, { items: rows.map(taskView), total: rows.length })
    }),
  updateTask: ({ params, body }) =>
    Effect.gen(function* () {
      yield* checkAssignee(params.id, body.assigned_agent_id)
      const row = yield* Effect.flatMap(TaskRepo, (repo) => repo.update(params.id, params.task_id, { title: body.title, status: body.status, assignedAgentId: body.assigned_agent_id }))
      if (Option.isNone(row)) return yield* notFound("task")
      return reply(200, taskView(row.value))
    })
})
