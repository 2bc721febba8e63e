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

export interface ActivityRepoShape {
  readonly record: (entry: ActivityEntry) => Effect.Effect<void, SqlError>
  /** An agent's entries, newest first, a page at a time; `total` counts them all. */
  readonly forAgent: (
    agentId: string,
    page: { readonly limit: number; readonly offset: number }
  ) => Effect.Effect<{ readonly items: ReadonlyArray<ActivityRow>; readonly total: number }, SqlError>
}

/** The lifecycle log: one row per lifecycle transition (never one per heartbeat). */
export class ActivityRepo extends Context.Tag("switchyard/ActivityRepo")<ActivityRepo, ActivityRepoShape>() {}

export const ActivityRepoLive = Layer.effect(
  ActivityRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return ActivityRepo.of({
      record: (entry) =>
        sql`insert into activity ${sql.insert({
          eventType: entry.eventType,
          message: entry.message,
          agentId: entry.agentId ?? null,
          boardId: entry.boardId ?? null,
          gatewayId: entry.gatewayId ?? null
        })}`.pipe(Effect.asVoid),
      forAgent: (agentId, { limit, offset }) =>
        Effect.all({
          items: sql<ActivityRow>`select * from activity where agent_id = ${agentId} order by id desc limit ${limit} offset ${offset}`,
          total: sql<{ count: string }>`select count(*) from activity where agent_id = ${agentId}`.pipe(Effect.map((rows) => Number(rows[0]?.count ?? 0)))
        })
    })
  })
)
