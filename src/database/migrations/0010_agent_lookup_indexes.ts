import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Indexes for the agent lookups that run per event or per request, so each stays flat as the
 * fleet grows (one gateway may hold every agent, so `gateway_id` alone does not narrow):
 * - the gateway-main agent of a gateway, the lead of a board, a board's workers (the cap);
 * - live agents in creation order `(created_at, id)`: restore pages and the keyset pages of
 *   `GET /api/v1/agents`, overall, per board and per gateway;
 * - live agents by state path, counted from the index alone by the agents-by-state metric.
 * No indexed column changes on a heartbeat, so heartbeat saves stay heap-only updates.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create index agents_gateway_main_idx on agents (gateway_id) where role = 'main' and deleted_at is null`
  yield* sql`create index agents_board_lead_idx on agents (board_id) where role = 'lead' and deleted_at is null`
  yield* sql`create index agents_board_workers_idx on agents (board_id) where role = 'worker' and deleted_at is null`
  yield* sql`create index agents_live_created_idx on agents (created_at, id) where deleted_at is null`
  yield* sql`create index agents_board_created_idx on agents (board_id, created_at, id) where deleted_at is null`
  yield* sql`create index agents_gateway_created_idx on agents (gateway_id, created_at, id) where deleted_at is null`
  yield* sql`create index agents_live_state_idx on agents (state_path) where deleted_at is null`
})
