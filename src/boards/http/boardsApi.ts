import { AgentView } from "../../agents/http/AgentView.ts"
import { LeadEnsure, WaitQuery } from "../../agents/http/agentRequests.ts"
import { IdParams } from "../../http/contract.ts"
import { BoardCreate, BoardQuery, BoardUpdate, TaskCreate, TaskParams, TaskQuery, TaskUpdate } from "./boardRequests.ts"
import { adminGet, answer, endpoints, getById } from "../../http/Endpoint.ts"
import { listOf } from "../../http/lists.ts"
import { BoardView, Ok, TaskView } from "./BoardView.ts"

const boards = { kind: "admin", resource: "boards" } as const
const tasks = { kind: "admin", resource: "tasks" } as const

/** `/api/v1/boards` (admin): a board belongs to one gateway; it has a goal, a worker cap, one lead and a minimal task list. */
export const boardsApi = endpoints({
  createBoard: {
    method: "post",
    path: "/api/v1/boards",
    access: boards,
    summary: "Create a board",
    description: "A board belongs to one active gateway; goal fields, `max_agents` and `paused` take database defaults when left out.",
    body: BoardCreate,
    responses: { 201: answer("The board.", BoardView) },
    failures: [400, 404, 409]
  },
  listBoards: adminGet("/api/v1/boards", "boards", "List boards", answer("Every board (of one gateway with `gateway_id`).", listOf(BoardView)), { query: BoardQuery }),
  getBoard: getById("/api/v1/boards/{id}", "boards", "Read a board", answer("The board.", BoardView)),
  updateBoard: {
    method: "patch",
    path: "/api/v1/boards/{id}",
    access: boards,
    summary: "Update a board",
    description: "Name, goal fields (`board_type`, `objective`, `success_metrics`, `target_date`, `goal_confirmed`), `max_agents`, `paused`.",
    params: IdParams,
    body: BoardUpdate,
    responses: { 200: answer("The board.", BoardView) },
    failures: [400, 404, 409]
  },
  deleteBoard: {
    method: "delete",
    path: "/api/v1/boards/{id}",
    access: boards,
    summary: "Delete an empty board",
    params: IdParams,
    responses: { 200: answer("Deleted.", Ok) },
    failures: [404, 409]
  },
  ensureBoardLead: {
    method: "post",
    path: "/api/v1/boards/{id}/lead",
    access: boards,
    summary: "Ensure the board's lead",
    description:
      "Creates the board's lead (`lead-<board id>`) when it has none (201); otherwise applies the given fields to the existing lead (200). Concurrent calls converge on one lead.",
    params: IdParams,
    query: WaitQuery,
    body: LeadEnsure,
    bodyOptional: true,
    responses: {
      200: answer("The existing lead.", AgentView),
      201: answer("The lead was created.", AgentView),
      202: answer("`wait_for` was not reached within `timeout_ms`.", AgentView)
    },
    failures: [400, 404, 409]
  },
  createTask: {
    method: "post",
    path: "/api/v1/boards/{id}/tasks",
    access: tasks,
    summary: "Create a task",
    description: "A task may be assigned only to an agent of its own board (422 otherwise).",
    params: IdParams,
    body: TaskCreate,
    responses: { 201: answer("The task.", TaskView) },
    failures: [400, 404]
  },
  listTasks: {
    method: "get",
    path: "/api/v1/boards/{id}/tasks",
    access: tasks,
    summary: "List a board's tasks",
    params: IdParams,
    query: TaskQuery,
    responses: { 200: answer("The board's tasks.", listOf(TaskView)) },
    failures: [404]
  },
  updateTask: {
    method: "patch",
    path: "/api/v1/boards/{id}/tasks/{task_id}",
    access: tasks,
    summary: "Update a task",
    params: TaskParams,
    body: TaskUpdate,
    responses: { 200: answer("The task.", TaskView) },
    failures: [400, 404]
  }
})
