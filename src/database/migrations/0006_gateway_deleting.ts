import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * A gateway being deleted keeps its row until every agent it holds has been removed from the
 * gateway, so the deletion survives a restart; `deleting_at` marks it.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table gateways add column deleting_at timestamptz`
  yield* sql`create index gateways_deleting_idx on gateways (deleting_at) where deleting_at is not null`
})
