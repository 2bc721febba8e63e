import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The agent change stream's frontier as a function, `agent_changes_frontier()` (a cursor, bigint;
 * docs/architecture.md §8.1), no longer held back by transactions of other databases.
 *
 * - It is the lowest id among the transactions the calling statement's snapshot sees in progress
 *   (`pg_snapshot_xip`), leaving out those that run in another database, else the snapshot's
 *   `xmax`; shifted `<< 16` as a cursor. 0014's frontier was the snapshot's `xmin`, which any
 *   writing transaction of any database on the server held back.
 * - A transaction is in another database only on positive knowledge: its id's `transactionid`
 *   lock is held (`pg_locks.pid` is the id's owner) by a backend whose `pg_stat_activity.datid`
 *   is not this database, and a backend never changes database. Ids are compared on their low 32
 *   bits (`pg_locks` shows 32-bit ids); in-progress ids are far closer together than 2^32.
 * - STABLE, so its statements run on the calling statement's snapshot (a VOLATILE function
 *   would take a newer one, and could pass a transaction the caller does not see). PL/pgSQL, so
 *   its plan is made once per session: planning the catalog views costs several ms, running
 *   them well under one, and reading them only when a transaction is in progress.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create function agent_changes_frontier() returns bigint language plpgsql stable as $$
    declare
      snap pg_snapshot := pg_current_snapshot();
      lowest bigint;
    begin
      if pg_snapshot_xmin(snap) = pg_snapshot_xmax(snap) then
        return pg_snapshot_xmax(snap)::text::bigint << 16;
      end if;
      select min(x::text::bigint) into lowest
      from pg_snapshot_xip(snap) as x
      where x::text::bigint % 4294967296 not in (
        select l.transactionid::text::bigint
        from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'transactionid' and l.mode = 'ExclusiveLock' and l.granted and l.transactionid is not null
          and a.datid <> (select oid from pg_database where datname = current_database()));
      return coalesce(lowest, pg_snapshot_xmax(snap)::text::bigint) << 16;
    end $$`
})
