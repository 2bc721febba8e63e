import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Indexes for the fleet view: `GET /api/v1/fleet/summary` and the filters of `GET /api/v1/agents`.
 * - live agents grouped by gateway, board, state and offline reason, counted from the index alone;
 * - live agents by status in creation order (the `status` and `state` filters, `problem=offline`);
 * - small partial indexes, in creation order, of the agents in a problem state: failed, retrying,
 *   and busy (provisioning, updating, deleting; the candidates for `stuck`);
 * - a trigram index on the name for the case-insensitive substring search `q` (`pg_trgm`, a
 *   trusted extension: a database owner may create it).
 * The predicates are the ones `src/store/fleetQueries.ts` writes, word for word, so the planner
 * can prove a query implies them. Only transitions change these columns; heartbeats stay HOT.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create extension if not exists pg_trgm`
  yield* sql`create index agents_live_group_idx on agents (gateway_id, board_id, state_path, offline_reason) where deleted_at is null`
  yield* sql`create index agents_status_created_idx on agents (status, created_at, id) where deleted_at is null`
  yield* sql`create index agents_failed_created_idx on agents (created_at, id) where deleted_at is null and state_path like '%.failed'`
  yield* sql`
    create index agents_retrying_created_idx on agents (created_at, id)
    where deleted_at is null and (state_path like '%.retrying' or state_path like '%.wakeRetrying')`
  yield* sql`
    create index agents_busy_created_idx on agents (created_at, id)
    where deleted_at is null and status in ('provisioning', 'updating', 'deleting')`
  yield* sql`create index agents_name_trgm_idx on agents using gin (name gin_trgm_ops) where deleted_at is null`
})
