import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Board goals (the fields the templates use), the worker cap that applies to agents a lead
 * creates, and the paused flag that template sync honours (docs/operations.md §6.15).
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    alter table boards
      add column board_type text not null default 'general' check (board_type in ('goal', 'general')),
      add column objective text,
      add column success_metrics jsonb,
      add column target_date date,
      add column goal_confirmed boolean not null default false,
      add column max_agents integer not null default 1 check (max_agents >= 0),
      add column paused boolean not null default false`
})
