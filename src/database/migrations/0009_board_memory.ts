import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Board memory and board chat (docs/operations.md §6.11): durable notes, replies
 * from the main agent or the lead (tags `gateway_main`, `lead_reply`, `user_reply`), and chat
 * (`is_chat`, the `chat` tag). A replayed `Idempotency-Key` from the same author finds the
 * first entry. Board onboarding (docs/operations.md §6.11), kept minimal:
 * one conversation per board with the gateway-main agent, `active` until it posts `complete`.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table board_memory (
      id uuid primary key,
      board_id uuid not null references boards (id) on delete cascade,
      content text not null,
      tags jsonb not null default '[]',
      is_chat boolean not null default false,
      source text,
      author_kind text not null check (author_kind in ('admin', 'agent')),
      author_agent_id uuid references agents (id) on delete set null,
      idempotency_key text,
      created_at timestamptz not null default now()
    )`
  yield* sql`create index board_memory_board_idx on board_memory (board_id, created_at desc)`
  yield* sql`
    create unique index board_memory_idempotency_key on board_memory
      (board_id, author_kind, coalesce(author_agent_id::text, ''), idempotency_key) where idempotency_key is not null`
  yield* sql`
    create table board_onboarding (
      board_id uuid primary key references boards (id) on delete cascade,
      main_agent_id uuid references agents (id) on delete set null,
      status text not null check (status in ('active', 'completed')),
      messages jsonb not null default '[]',
      draft_goal jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`
})
