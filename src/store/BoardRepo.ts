import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"

export interface BoardRow {
  readonly id: string
  readonly gatewayId: string
  readonly name: string
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface BoardRepoShape {
  readonly insert: (board: { id: string; gatewayId: string; name: string }) => Effect.Effect<BoardRow, SqlError>
  readonly list: (filter: { gatewayId?: string | undefined }) => Effect.Effect<ReadonlyArray<BoardRow>, SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<BoardRow>, SqlError>
}

/** Boards table: a board belongs to one gateway; its agents run there. */
export class BoardRepo extends Context.Tag("switchyard/BoardRepo")<BoardRepo, BoardRepoShape>() {}

export const BoardRepoLive = Layer.effect(
  BoardRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return BoardRepo.of({
      insert: (board) => sql<BoardRow>`insert into boards ${sql.insert(board)} returning *`.pipe(Effect.map((rows) => rows[0]!)),
      list: ({ gatewayId }) =>
        gatewayId === undefined
          ? sql<BoardRow>`select * from boards order by created_at`
          : sql<BoardRow>`select * from boards where gateway_id = ${gatewayId} order by created_at`,
      get: (id) => sql<BoardRow>`select * from boards where id = ${id}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))
    })
  })
)
