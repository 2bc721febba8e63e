import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"

export type TaskStatus = "inbox" | "in_progress" | "review" | "done"

export interface TaskRow {
  readonly id: string
  readonly boardId: string
  readonly title: string
  readonly status: TaskStatus
  readonly assignedAgentId: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface TaskChanges {
  readonly title?: string | undefined
  readonly status?: TaskStatus | undefined
  readonly assignedAgentId?: string | null | undefined
}

export interface TaskRepoShape {
  readonly insert: (task: { id: string; boardId: string; title: string; status: TaskStatus; assignedAgentId: string | null }) => Effect.Effect<TaskRow, SqlError>
  readonly list: (filter: { boardId: string; status?: TaskStatus | undefined; assignedAgentId?: string | undefined }) => Effect.Effect<ReadonlyArray<TaskRow>, SqlError>
  readonly update: (boardId: string, id: string, changes: TaskChanges) => Effect.Effect<Option.Option<TaskRow>, SqlError>
  /**
   * What deleting an agent does to its tasks (docs/operations.md §6.14): in-progress ones go back to
   * the inbox unassigned, the rest are unassigned. Idempotent. Returns how many changed.
   */
  readonly releaseAgent: (agentId: string) => Effect.Effect<number, SqlError>
}

/** Tasks of a board, each optionally assigned to one of its agents. */
export class TaskRepo extends Context.Tag("switchyard/TaskRepo")<TaskRepo, TaskRepoShape>() {}

export const TaskRepoLive = Layer.effect(
  TaskRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return TaskRepo.of({
      insert: (task) => sql<TaskRow>`insert into tasks ${sql.insert(task)} returning *`.pipe(Effect.map((rows) => rows[0]!)),
      list: ({ boardId, status, assignedAgentId }) => {
        const where = sql.and([
          sql`board_id = ${boardId}`,
          ...(status === undefined ? [] : [sql`status = ${status}`]),
          ...(assignedAgentId === undefined ? [] : [sql`assigned_agent_id = ${assignedAgentId}`])
        ])
        return sql<TaskRow>`select * from tasks where ${where} order by created_at, id`
      },
      update: (boardId, id, changes) => {
        const values = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
        return sql<TaskRow>`update tasks set ${sql.update({ ...values, updatedAt: new Date() })}
          where id = ${id} and board_id = ${boardId} returning *`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))
      },
      releaseAgent: (agentId) =>
        sql`update tasks set
              status = case when status = 'in_progress' then 'inbox' else status end,
              assigned_agent_id = null,
              updated_at = now()
            where assigned_agent_id = ${agentId} returning id`.pipe(Effect.map((rows) => rows.length))
    })
  })
)
