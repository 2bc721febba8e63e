/**
 * The change feed's frontier read, exact (`agent_changes_frontier()`) vs with the notified floor
 * (`agent_changes_frontier(notified)`, migration 0024), interleaved in one window
 * (`npx tsx bench/frontierCost.ts [ROUNDS] [READS]`). In a fresh database, before each pair of
 * reads: a writer commits a transaction (the notified one), a second one of this database opens
 * and draws an id, and the writer commits a third (not yet notified), so the open one is in the
 * snapshot's in-progress list and the exact path must join pg_locks, as under load. Prints, per variant,
 * the server-side execution time (EXPLAIN ANALYZE, µs; median and p90 over all reads) and how
 * often the floor's cheap bound was taken (it is not when an older transaction, of any database
 * on the server, is still in progress).
 */
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { AppConfigTest } from "../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../src/database/Database.ts"
import { createTestDatabase } from "../test/support/database.ts"

const [rounds, reads] = [Number(process.argv[2] ?? 6), Number(process.argv[3] ?? 300)]
const db = await createTestDatabase()
const runtime = ManagedRuntime.make(Layer.provideMerge(MigrationsLive, SqlLive).pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
await runtime.runPromise(Effect.void)
const [reader, writer, holder] = [0, 1, 2].map(() => new pg.Client({ connectionString: db.url }))
await Promise.all([reader!.connect(), writer!.connect(), holder!.connect()])
const executionUs = async (sql: string, params: Array<unknown>) => {
  const { rows } = await reader!.query<{ "QUERY PLAN": Array<{ "Execution Time": number }> }>(`explain (analyze, format json) ${sql}`, params)
  return rows[0]!["QUERY PLAN"][0]!["Execution Time"] * 1_000
}
const times = { exact: [] as Array<number>, floor: [] as Array<number> }
let cheap = 0
// Warm both plans (PL/pgSQL plans once per session).
await reader!.query("select agent_changes_frontier(), agent_changes_frontier(0::bigint)")
try {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < reads; i++) {
      const { rows } = await writer!.query<{ xid: string }>("select pg_current_xact_id()::text as xid")
      const notified = Number(rows[0]!.xid) * 65_536
      await holder!.query("begin")
      await holder!.query("select pg_current_xact_id()")
      // A later transaction commits (not yet notified to the reader): the holder's id is now
      // below the snapshot's xmax, in its in-progress list, and the exact path joins.
      await writer!.query("select pg_current_xact_id()")
      const exactFirst = (round + i) % 2 === 0
      for (const variant of exactFirst ? (["exact", "floor"] as const) : (["floor", "exact"] as const)) {
        times[variant].push(await executionUs(variant === "exact" ? "select agent_changes_frontier()" : "select agent_changes_frontier($1::bigint)", variant === "exact" ? [] : [notified]))
      }
      const hit = await reader!.query<{ hit: boolean }>("select (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16) > $1::bigint as hit", [notified])
      if (hit.rows[0]!.hit) cheap++
      await holder!.query("commit")
    }
  }
} finally {
  await Promise.all([reader!.end(), writer!.end(), holder!.end()])
  await runtime.dispose()
  await db.drop()
}
const quantile = (values: Array<number>, q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!.toFixed(0)
for (const variant of ["exact", "floor"] as const) {
  console.log(`${variant}: execution µs median ${quantile(times[variant], 0.5)}, p90 ${quantile(times[variant], 0.9)} (${times[variant].length} reads)`)
}
console.log(`cheap bound passed the notified floor in ${cheap} of ${rounds * reads} reads`)
