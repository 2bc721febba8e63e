import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * One gateway's live agents in creation order: the restore of a gateway's actors when its
 * owner (cluster runner) activates it pages through this index (src/agents/gatewayAgentRows.ts;
 * docs/architecture.md "Cluster").
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create index agents_gateway_live_idx on agents (gateway_id, created_at, id) where deleted_at is null`
})
