import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

/** One board memory entry (migration 0009), camelCase. */
export interface BoardMemoryRow {
  readonly id: string
  readonly boardId: string
  readonly content: string
  readonly tags: ReadonlyArray<string>
  /** The `chat` tag: board chat, fanned out to the lead and @mentions. */
  readonly isChat: boolean
  /** Who it says it is from (the author's name by default for chat). */
  readonly source: string | null
  readonly authorKind: "admin" | "agent"
  readonly authorAgentId: string | null
  readonly idempotencyKey: string | null
  readonly createdAt: Date
}

export type NewBoardMemory = Omit<BoardMemoryRow, "createdAt">

export interface BoardMemoryRepoShape {
  /**
   * Inserts the entry, unless its author already used `idempotencyKey` on this board: then the
   * first entry is returned with `inserted: false`.
   */
  readonly insert: (entry: NewBoardMemory) => Effect.Effect<{ readonly row: BoardMemoryRow; readonly inserted: boolean }, SqlError>
  /** A board's entries, newest first, without blank ones; `isChat` filters. */
  readonly list: (
    boardId: string,
    filter: { readonly isChat?: boolean | undefined; readonly limit: number; readonly offset: number }
  ) => Effect.Effect<{ readonly items: ReadonlyArray<BoardMemoryRow>; readonly total: number }, SqlError>
}

/** Board memory and chat (docs/operations.md §6.11). */
export class BoardMemoryRepo extends Context.Tag("switchyard/BoardMemoryRepo")<BoardMemoryRepo, BoardMemoryRepoShape>() {}

export const BoardMemoryRepoLive = Layer.effect(
  BoardMemoryRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return BoardMemoryRepo.of({
      insert: (entry) =>
        Effect.gen(function* () {
          const inserted = yield* sql<BoardMemoryRow>`insert into board_memory ${sql.insert({ ...entry, tags: JSON.stringify(entry.tags) })}
            on conflict do nothing returning *`
          if (inserted[0] !== undefined) return { row: inserted[0], inserted: true }
          const existing = yield* sql<BoardMemoryRow>`select * from board_memory
            where board_id = ${entry.boardId} and author_kind = ${entry.authorKind}
              and coalesce(author_agent_id::text, '') = ${entry.authorAgentId ?? ""} and idempotency_key = ${entry.idempotencyKey}`
          if (existing[0] !== undefined) return { row: existing[0], inserted: false }
          return yield* Effect.dieMessage(`board memory ${entry.id}: insert did nothing, yet no entry holds its idempotency key`)
        }),
      list: (boardId, { isChat, limit, offset }) => {
        const where = sql.and([
          sql`board_id = ${boardId}`,
          sql`length(trim(content)) > 0`,
          ...(isChat === undefined ? [] : [sql`is_chat = ${isChat}`])
        ])
        return Effect.all({
          items: sql<BoardMemoryRow>`select * from board_memory where ${where} order by created_at desc, id limit ${limit} offset ${offset}`,
          total: sql<{ count: string }>`select count(*) from board_memory where ${where}`.pipe(Effect.map((rows) => Number(rows[0]?.count ?? 0)))
        })
      }
    })
  })
)
