import { randomUUID } from "node:crypto"
import { HttpRouter } from "@effect/platform"
import { Effect, Option } from "effect"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { TaskRepo } from "../../store/TaskRepo.ts"
import { invalid, notFound } from "../ApiError.ts"
import { IdParams, TaskCreate, TaskParams, TaskQuery, TaskUpdate } from "../contract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { admin } from "../admin.ts"
import { existingBoard } from "../lookups.ts"
import { json } from "../respond.ts"
import { taskView } from "../views.ts"

/** A task may be assigned only to a live agent of its own board (422 otherwise). */
const checkAssignee = (boardId: string, agentId: string | null | undefined) =>
  agentId === null || agentId === undefined
    ? Effect.void
    : Effect.flatMap(AgentRepo, (repo) => repo.get(agentId)).pipe(
        Effect.flatMap((agent) =>
          Option.isSome(agent) && agent.value.boardId === boardId
            ? Effect.void
            : Effect.fail(invalid(`assigned_agent_id: no agent ${agentId} on this board`))
        )
      )

/** `/api/v1/boards/{id}/tasks` (admin): a minimal task list per board. */
export const taskRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/boards/:id/tasks",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const body = yield* decodeBody(TaskCreate)
        yield* existingBoard(id)
        yield* checkAssignee(id, body.assigned_agent_id)
        const row = yield* Effect.flatMap(TaskRepo, (repo) =>
          repo.insert({ id: randomUUID(), boardId: id, title: body.title, status: body.status, assignedAgentId: body.assigned_agent_id })
        )
        return json(taskView(row), 201)
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/boards/:id/tasks",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const query = yield* decodeQuery(TaskQuery)
        yield* existingBoard(id)
        const rows = yield* Effect.flatMap(TaskRepo, (repo) => repo.list({ boardId: id, status: query.status, assignedAgentId: query.assigned_agent_id }))
        return json({ items: rows.map(taskView), total: rows.length })
      })
    )
  ),
  HttpRouter.patch(
    "/api/v1/boards/:id/tasks/:task_id",
    admin(
      Effect.gen(function* () {
        const params = yield* decodeParams(TaskParams)
        const body = yield* decodeBody(TaskUpdate)
        yield* checkAssignee(params.id, body.assigned_agent_id)
        const row = yield* Effect.flatMap(TaskRepo, (repo) =>
          repo.update(params.id, params.task_id, { title: body.title, status: body.status, assignedAgentId: body.assigned_agent_id })
        )
        if (Option.isNone(row)) return yield* notFound("task")
        return json(taskView(row.value))
      })
    )
  )
)
