import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"
import { batchedReads } from "./batchedReads.ts"

/** A board's goal: what the templates render into the agents' workspace (docs/operations.md §6.15). */
export interface BoardGoal {
  readonly boardType: "goal" | "general"
  readonly objective: string | null
  readonly successMetrics: Readonly<Record<string, unknown>> | null
  /** ISO date (YYYY-MM-DD). */
  readonly targetDate: string | null
  readonly goalConfirmed: boolean
}

export interface BoardSettings extends BoardGoal {
  /** How many non-lead agents a lead may have on the board (`max_agents`, docs/operations.md §6.2, §6.15). */
  readonly maxAgents: number
  /** A paused board is skipped by template sync. */
  readonly paused: boolean
}

export interface BoardRow extends BoardSettings {
  readonly id: string
  readonly gatewayId: string
  readonly name: string
  readonly createdAt: Date
  readonly updatedAt: Date
}

export type BoardChanges = Partial<BoardSettings & { name: string }>

export interface BoardRepoShape {
  readonly insert: (board: { id: string; gatewayId: string; name: string } & Partial<BoardSettings>) => Effect.Effect<BoardRow, SqlError>
  readonly list: (filter: { gatewayId?: string | undefined }) => Effect.Effect<ReadonlyArray<BoardRow>, SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<BoardRow>, SqlError>
  /**
   * `get` shared with the callers that ask meanwhile (`batchedReads`: one statement per batch,
   * sent after each caller asked; docs/architecture.md §6.5). Never inside a transaction.
   */
  readonly getShared: (id: string) => Effect.Effect<Option.Option<BoardRow>, SqlError>
  readonly update: (id: string, changes: BoardChanges) => Effect.Effect<Option.Option<BoardRow>, SqlError>
  readonly remove: (id: string) => Effect.Effect<boolean, SqlError>
}

/** Boards table: a board belongs to one gateway; its agents run there. */
export class BoardRepo extends Context.Tag("switchyard/BoardRepo")<BoardRepo, BoardRepoShape>() {}

const COLUMNS = `id, gateway_id, name, board_type, objective, success_metrics, to_char(target_date, 'YYYY-MM-DD') as target_date,
  goal_confirmed, max_agents, paused, created_at, updated_at`

/** camelCase changes → column values; JSON goes in as text (the client does not re-case it). */
const values = (changes: BoardChanges): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(changes)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, key === "successMetrics" && value !== null ? JSON.stringify(value) : value])
  )

export const BoardRepoLive = Layer.effect(
  BoardRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.unsafe(COLUMNS)
    return BoardRepo.of({
      getShared: batchedReads((ids) => sql<BoardRow>`select ${columns} from boards where id = any(string_to_array(${ids.join(",")}, ',')::uuid[])`),
      insert: ({ id, gatewayId, name, ...settings }) =>
        sql<BoardRow>`insert into boards ${sql.insert({ id, gatewayId, name, ...values(settings) })} returning ${columns}`.pipe(
          Effect.map((rows) => rows[0]!)
        ),
      list: ({ gatewayId }) =>
        gatewayId === undefined
          ? sql<BoardRow>`select ${columns} from boards order by created_at`
          : sql<BoardRow>`select ${columns} from boards where gateway_id = ${gatewayId} order by created_at`,
      get: (id) => sql<BoardRow>`select ${columns} from boards where id = ${id}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]))),
      update: (id, changes) =>
        sql<BoardRow>`update boards set ${sql.update({ ...values(changes), updatedAt: new Date() })} where id = ${id} returning ${columns}`.pipe(
          Effect.map((rows) => Option.fromNullable(rows[0]))
        ),
      remove: (id) => sql`delete from boards where id = ${id} returning id`.pipe(Effect.map((rows) => rows.length > 0))
    })
  })
)
