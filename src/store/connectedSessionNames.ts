import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The `application_name`s starting with `prefix` of the sessions connected to this database now
 * (`pg_stat_activity`; Postgres keeps the first 63 bytes of a name). The cluster uses it to tell
 * a runner that holds no session, so no shard lock, from a live one (docs/architecture.md §11).
 * Fails with `SqlError`.
 */
export const connectedSessionNames = (prefix: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ applicationName: string }>`
      select distinct application_name from pg_stat_activity
      where datname = current_database() and starts_with(application_name, ${prefix})`
    return new Set(rows.map((row) => row.applicationName))
  })
