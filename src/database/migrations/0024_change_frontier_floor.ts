import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * `agent_changes_frontier(notified bigint)` (a cursor, bigint; docs/architecture.md §8.1): the
 * frontier of 0022 without its catalog join when a cheaper bound already passes every notified
 * change.
 *
 * - The bound is the calling statement's snapshot `xmin << 16`: every id below `xmin` has ended,
 *   so it is never above the exact frontier (which is `xmin` itself, a higher in-progress id, or
 *   `xmax`) and is as safe a frontier.
 * - When it is above `notified` (the highest floor the reader was told committed) it is the
 *   answer: every notified change lies below it. Otherwise (or `notified` null) the exact
 *   `agent_changes_frontier()`, with its `pg_locks`/`pg_stat_activity` join when a transaction
 *   is in progress.
 * - STABLE PL/pgSQL like 0022: it and the function it calls read the calling statement's snapshot.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create function agent_changes_frontier(notified bigint) returns bigint language plpgsql stable as $$
    declare
      bound bigint := pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16;
    begin
      if bound > notified then
        return bound;
      end if;
      return agent_changes_frontier();
    end $$`
})
