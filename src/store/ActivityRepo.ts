import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

export interface ActivityEntry {
  readonly eventType: string
  readonly message: string
  readonly agentId?: string | null
  readonly boardId?: string | null
  readonly gatewayId?: string | null
}

export interface ActivityRow extends Required<ActivityEntry> {
  readonly id: string
  readonly createdAt: Date
}

/** Which entries a page holds: every given filter applies. */
export interface ActivityFilter {
  readonly agentId?: string | undefined
  readonly boardId?: string | undefined
  readonly limit: number
  readonly offset: number
}

export interface ActivityRepoShape {
  readonly record: (entry: ActivityEntry) => Effect.Effect<void, SqlError>
  /** Entries matching the filter (lifecycle and coordination), newest first, a page at a time; `total` counts them all. */
  readonly page: (filter: ActivityFilter) => Effect.Effect<{ readonly items: ReadonlyArray<ActivityRow>; readonly total: number }, SqlError>
  /** An agent's entries, newest first, a page at a time; `total` counts them all. */
  readonly forAgent: (
    agentId: string,
    page: { readonly limit: number; readonly offset: number }
  ) => Effect.Effect<{ readonly items: ReadonlyArray<ActivityRow>; readonly total: number }, SqlError>
}

/** The activity log: lifecycle transitions (never one row per heartbeat) and coordination entries. */
export class ActivityRepo extends Context.Tag("switchyard/ActivityRepo")<ActivityRepo, ActivityRepoShape>() {}

export const ActivityRepoLive = Layer.effect(
  ActivityRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const page: ActivityRepoShape["page"] = ({ agentId, boardId, limit, offset }) => {
      const where = sql.and([
        sql`true`,
        ...(agentId === undefined ? [] : [sql`agent_id = ${agentId}`]),
        ...(boardId === undefined ? [] : [sql`board_id = ${boardId}`])
      ])
      return Effect.all({
        items: sql<ActivityRow>`select * from activity where ${where} order by id desc limit ${limit} offset ${offset}`,
        total: sql<{ count: string }>`select count(*) from activity where ${where}`.pipe(Effect.map((rows) => Number(rows[0]?.count ?? 0)))
      })
    }
    return ActivityRepo.of({
      record: (entry) =>
        sql`insert into activity ${sql.insert({
          eventType: entry.eventType,
          message: entry.message,
          agentId: entry.agentId ?? null,
          boardId: entry.boardId ?? null,
          gatewayId: entry.gatewayId ?? null
        })}`.pipe(Effect.asVoid),
      page,
      forAgent: (agentId, { limit, offset }) => page({ agentId, limit, offset })
    })
  })
)
