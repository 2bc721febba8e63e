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
  /** Inserts `entries` in order with one statement (none for an empty list). */
  readonly recordMany: (entries: ReadonlyArray<ActivityEntry>) => Effect.Effect<void, SqlError>
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
      recordMany: (entries) => {
        if (entries.length === 0) return Effect.void
        const rows = entries.map((entry) => ({
          event_type: entry.eventType,
          message: entry.message,
          agent_id: entry.agentId ?? null,
          board_id: entry.boardId ?? null,
          gateway_id: entry.gatewayId ?? null
        }))
        return sql`
          insert into activity (event_type, message, agent_id, board_id, gateway_id)
          select v.event_type, v.message, v.agent_id, v.board_id, v.gateway_id
          from rows from (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as (event_type text, message text, agent_id uuid, board_id uuid, gateway_id uuid))
            with ordinality as v(event_type, message, agent_id, board_id, gateway_id, n)
          order by v.n`.pipe(Effect.asVoid)
      },
      page,
      forAgent: (agentId, { limit, offset }) => page({ agentId, limit, offset })
    })
  })
)
