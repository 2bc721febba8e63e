import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** A minimal task table: enough to hand work to agents and to tidy up when one is deleted. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table tasks (
      id uuid primary key,
      board_id uuid not null references boards (id) on delete cascade,
      title text not null,
      status text not null default 'inbox' check (status in ('inbox', 'in_progress', 'review', 'done')),
      assigned_agent_id uuid references agents (id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`
  yield* sql`create index tasks_board_idx on tasks (board_id, created_at)`
  yield* sql`create index tasks_assignee_idx on tasks (assigned_agent_id) where assigned_agent_id is not null`
})
