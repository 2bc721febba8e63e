import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"
import type { ActivityRow } from "./ActivityRepo.ts"

export interface ActivityFilter {
  readonly agentId?: string | undefined
  readonly boardId?: string | undefined
  readonly limit: number
  readonly offset: number
}

export interface ActivityFeedRepoShape {
  /** Entries matching every given filter, newest first, a page at a time; `total` counts them all. */
  readonly page: (filter: ActivityFilter) => Effect.Effect<{ readonly items: ReadonlyArray<ActivityRow>; readonly total: number }, SqlError>
}

/** The activity log as one feed (lifecycle and coordination entries), read side of ActivityRepo's table. */
export class ActivityFeedRepo extends Context.Tag("switchyard/ActivityFeedRepo")<ActivityFeedRepo, ActivityFeedRepoShape>() {}

export const ActivityFeedRepoLive = Layer.effect(
  ActivityFeedRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return ActivityFeedRepo.of({
      page: ({ agentId, boardId, limit, offset }) => {
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
    })
  })
)
