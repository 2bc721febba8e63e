import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The message ledger: every message to an agent, whatever sent it, is a row here before it is
 * delivered, so a send can be looked up afterwards (delivered or failed, and why) and a replayed
 * idempotency key sends nothing twice. `channel` says how it reaches the agent: `gateway`
 * (`chat.send` into its session, retried by the delivery worker) or `inbox` (pulled by the
 * agent with at-least-once leases). Agent inbox API keys are stored as sha256 only.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table messages (
      id uuid primary key,
      target_agent_id uuid not null references agents (id) on delete cascade,
      sender_kind text not null check (sender_kind in ('admin', 'agent', 'system')),
      sender_agent_id uuid references agents (id) on delete set null,
      kind text not null,
      channel text not null check (channel in ('gateway', 'inbox')),
      body text not null,
      deliver boolean not null default false,
      idempotency_key text not null,
      status text not null default 'pending' check (status in ('pending', 'leased', 'delivered', 'failed')),
      attempts integer not null default 0,
      last_error text,
      lease_expires_at timestamptz,
      reply_to uuid references messages (id) on delete set null,
      result jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      delivered_at timestamptz
    )`
  // Idempotency is per sender: the same key from two senders is two messages.
  yield* sql`create unique index messages_idempotency_key on messages (sender_kind, coalesce(sender_agent_id::text, ''), idempotency_key)`
  yield* sql`create index messages_target_pending_idx on messages (target_agent_id, created_at) where status in ('pending', 'leased')`
  yield* sql`create index messages_gateway_pending_idx on messages (created_at) where channel = 'gateway' and status = 'pending'`
  yield* sql`create index messages_target_recent_idx on messages (target_agent_id, created_at desc)`
  yield* sql`
    create table agent_api_keys (
      agent_id uuid primary key references agents (id) on delete cascade,
      key_hash text not null unique,
      created_at timestamptz not null default now()
    )`
})
