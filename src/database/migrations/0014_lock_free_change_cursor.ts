import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The agent change stream's cursor without a serialisation point, and heartbeats that are not
 * transitions (docs/architecture.md §8.1).
 *
 * - 0007's commit trigger goes: it took one advisory lock for every committing writer in the
 *   database and renumbered and announced each transition row inside COMMIT.
 * - A change's cursor is now `xid << 16 | rank` (`changeCursor`): the id of the transaction
 *   that wrote it (`pg_current_xact_id()`) and its place within that transaction, written by the
 *   group commit. A row inserted any other way (a fixture) takes `id` from the old sequence:
 *   unique, and below every change cursor, so it is history but never pushed live.
 *   Transaction ids are not handed out in commit order, so a reader publishes only cursors below
 *   `pg_snapshot_xmin(pg_current_snapshot()) << 16` (the frontier): every transaction below it
 *   has ended, so nothing can ever commit there again. Existing rows keep their ids, all below
 *   any new cursor. The cursor stays a safe JavaScript integer while transaction ids stay below
 *   2^37 (137 billion transactions).
 * - `agent_beats`: an agent's newest liveness change (a heartbeat that left its state as it
 *   was), one row per agent, with the cursor it was written at: the stream pushes it like a
 *   transition, and replays the newest one per agent.
 * - Both tables announce a write once per statement (`pg_notify` with the transaction id as
 *   payload; NOTIFY folds identical payloads of one transaction into one).
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`drop trigger agent_transitions_number on agent_transitions`
  yield* sql`drop function agent_transitions_number()`
  yield* sql`alter table agent_transitions alter column id set default nextval('agent_transitions_cursor_seq')`
  yield* sql`
    create table agent_beats (
      agent_id uuid primary key references agents (id) on delete cascade,
      gateway_id uuid not null,
      board_id uuid,
      cursor bigint not null,
      version bigint not null,
      at timestamptz not null
    )`
  yield* sql`create index agent_beats_cursor_idx on agent_beats (cursor)`
  yield* sql`
    create function agent_changes_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('switchyard_agent_changes', pg_current_xact_id()::text);
      return null;
    end $$`
  yield* sql`create trigger agent_transitions_notify after insert on agent_transitions for each statement execute function agent_changes_notify()`
  yield* sql`create trigger agent_beats_notify after insert or update on agent_beats for each statement execute function agent_changes_notify()`
})
