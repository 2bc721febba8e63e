import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The agents read model gains `liveness` (jsonb): what the gateway's own signals say of the agent,
 * projected from its snapshot (docs/operations.md §8): last activity and its source, last run
 * and outcome, effective heartbeat and any mismatch, gateway reachable, missing from
 * `agents.list`, the offline cause. Null for rows not saved since. No index: it changes with
 * every signal, and unindexed it keeps those saves heap-only.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table agents add column liveness jsonb`
})
