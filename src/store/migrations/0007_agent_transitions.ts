import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Every transition of every agent (issue 5 §2). `id` is the global cursor of the agent change
 * stream: rows are numbered in commit order (see TransitionRepo.record), so "every row after
 * cursor N" misses nothing. `version` is the agent's snapshot version the transition produced;
 * `from_state` is null for the first state of a new agent. Rows go with their agent when the
 * agent's row is removed (a deleted gateway); a soft-deleted agent keeps its history.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table agent_transitions (
      id bigserial primary key,
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
  // Per-agent history (newest first) and retention pruning.
  yield* sql`create index agent_transitions_agent_idx on agent_transitions (agent_id, id desc)`
})
