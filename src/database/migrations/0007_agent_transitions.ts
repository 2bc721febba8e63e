import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Every transition of every agent (docs/architecture.md §6.2). `version` is the agent's snapshot version the
 * transition produced; `from_state` is null for a new agent's first state. Rows go with their
 * agent's row (a deleted gateway); a soft-deleted agent keeps its history.
 *
 * `id` is the global cursor of the agent change stream, and it is drawn AT COMMIT, in commit
 * order: a row goes in with a negative staging id, and a deferred constraint trigger, which runs
 * inside COMMIT, takes a transaction-scoped advisory lock, renumbers the row from
 * `agent_transitions_cursor_seq` and announces it with `pg_notify` (delivered at commit). A
 * bigserial drawn at insert time would not do: a transaction that drew 100 could commit after
 * one that drew 101, and a reader that had seen 101 would skip 100 for ever. Taking the lock at
 * insert time would hold it across client round trips; here it covers the commit alone, which
 * NOTIFY serialises anyway (it holds a global lock while committing). Staging ids are never
 * visible to other sessions.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create sequence agent_transitions_staging_seq`
  yield* sql`create sequence agent_transitions_cursor_seq`
  yield* sql`
    create table agent_transitions (
      id bigint primary key default -nextval('agent_transitions_staging_seq'),
      agent_id uuid not null references agents (id) on delete cascade,
      gateway_id uuid not null,
      board_id uuid,
      version bigint not null,
      from_state text,
      to_state text not null,
      event_type text not null,
      error_tag text,
      at timestamptz not null
    )`
  yield* sql`alter sequence agent_transitions_staging_seq owned by agent_transitions.id`
  yield* sql`alter sequence agent_transitions_cursor_seq owned by agent_transitions.id`
  // Per-agent history (newest first) and retention pruning.
  yield* sql`create index agent_transitions_agent_idx on agent_transitions (agent_id, id desc)`
  yield* sql`
    create function agent_transitions_number() returns trigger language plpgsql as $$
    declare
      cursor bigint;
    begin
      perform pg_advisory_xact_lock(hashtext('switchyard:agent-transitions'));
      update agent_transitions set id = nextval('agent_transitions_cursor_seq') where id = new.id returning id into cursor;
      perform pg_notify('switchyard_agent_changes', json_build_object('agent_id', new.agent_id, 'version', new.version, 'cursor', cursor)::text);
      return null;
    end $$`
  yield* sql`
    create constraint trigger agent_transitions_number after insert on agent_transitions
    deferrable initially deferred for each row execute function agent_transitions_number()`
})
