import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The fleet view's `drifted` problem (docs/operations.md §3.6): a small partial index of the
 * workspace checks that found drift, so the summary counts them and `problem=drifted` lists
 * them without reading every check. The predicate is the one `src/store/fleetQueries.ts`
 * writes. Checks are written by the drift check (every 10 minutes per gateway), never by a
 * heartbeat.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create index agent_workspace_checks_drifted_idx on agent_workspace_checks (agent_id) where drifted <> '[]'::jsonb`
})
