import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Failed authentications counted across the cluster (docs/architecture.md §7.2, docs/operations.md §1): one row per
 * client, `credential:<sha256>` or `address:<ip>`, with its current fixed window (`ends_at`) and
 * the failures in it. Written on the 401 path only, never on success. Unlogged: a lost count
 * after a crash costs nothing but a fresh window, and no WAL is written per failure.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create unlogged table auth_failures (subject text primary key, ends_at timestamptz not null, count integer not null)`
  yield* sql`create index auth_failures_ends_at_idx on auth_failures (ends_at)`
})
