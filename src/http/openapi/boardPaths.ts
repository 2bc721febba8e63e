import type { ZodOpenApiPathsObject } from "zod-openapi"
import { BoardCreate, BoardQuery, BoardUpdate, IdParams, LeadEnsure, TaskCreate, TaskParams, TaskQuery, TaskUpdate } from "../contract.ts"
import { WaitQueryDoc } from "./described.ts"
import { adminOperation, answer, json, optionalJson } from "./legacyOperations.ts"
import { AgentView, BoardView, listOf, Ok, TaskView } from "./viewSchemas.ts"

/** `/api/v1/boards` and their tasks (admin). */
export const boardPaths: ZodOpenApiPathsObject = {
  "/api/v1/boards": {
    post: adminOperation("boards", {
      operationId: "createBoard",
      summary: "Create a board",
      description: "A board belongs to one active gateway; goal fields, `max_agents` and `paused` take database defaults when left out.",
      requestBody: json(BoardCreate),
      responses: { "201": answer("The board.", BoardView) },
      failures: [400, 404, 409]
    }),
    get: adminOperation("boards", {
      operationId: "listBoards",
      summary: "List boards",
      requestParams: { query: BoardQuery },
      responses: { "200": answer("Every board (of one gateway with `gateway_id`).", listOf(BoardView)) }
    })
  },
  "/api/v1/boards/{id}": {
    get: adminOperation("boards", {
      operationId: "getBoard",
      summary: "Read a board",
      requestParams: { path: IdParams },
      responses: { "200": answer("The board.", BoardView) },
      failures: [404]
    }),
    patch: adminOperation("boards", {
      operationId: "updateBoard",
      summary: "Update a board",
      description: "Name, goal fields (`board_type`, `objective`, `success_metrics`, `target_date`, `goal_confirmed`), `max_agents`, `paused`.",
      requestParams: { path: IdParams },
      requestBody: json(BoardUpdate),
      responses: { "200": answer("The board.", BoardView) },
      failures: [400, 404, 409]
    }),
    delete: adminOperation("boards", {
      operationId: "deleteBoard",
      summary: "Delete an empty board",
      requestParams: { path: IdParams },
      responses: { "200": answer("Deleted.", Ok) },
      failures: [404, 409]
    })
  },
  "/api/v1/boards/{id}/lead": {
    post: adminOperation("boards", {
      operationId: "ensureBoardLead",
      summary: "Ensure the board's lead",
      description:
        "Creates the board's lead (`lead-<board id>`) when it has none (201); otherwise applies the given fields to the existing lead (200). Concurrent calls converge on one lead.",
      requestParams: { path: IdParams, query: WaitQueryDoc },
      requestBody: optionalJson(LeadEnsure),
      responses: {
        "200": answer("The existing lead.", AgentView),
        "201": answer("The lead was created.", AgentView),
        "202": answer("`wait_for` was not reached within `timeout_ms`.", AgentView)
      },
      failures: [400, 404, 409]
    })
  },
  "/api/v1/boards/{id}/tasks": {
    post: adminOperation("tasks", {
      operationId: "createTask",
      summary: "Create a task",
      description: "A task may be assigned only to an agent of its own board (422 otherwise).",
      requestParams: { path: IdParams },
      requestBody: json(TaskCreate),
      responses: { "201": answer("The task.", TaskView) },
      failures: [400, 404]
    }),
    get: adminOperation("tasks", {
      operationId: "listTasks",
      summary: "List a board's tasks",
      requestParams: { path: IdParams, query: TaskQuery },
      responses: { "200": answer("The board's tasks.", listOf(TaskView)) },
      failures: [404]
    })
  },
  "/api/v1/boards/{id}/tasks/{task_id}": {
    patch: adminOperation("tasks", {
      operationId: "updateTask",
      summary: "Update a task",
      requestParams: { path: TaskParams },
      requestBody: json(TaskUpdate),
      responses: { "200": answer("The task.", TaskView) },
      failures: [400, 404]
    })
  }
}
