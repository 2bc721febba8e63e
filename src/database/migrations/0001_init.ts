import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Gateways, boards, agents (read model + persisted snapshot) and the activity log of
 * lifecycle events. Agent tokens are stored only as sha256 hashes, found through unique
 * indexes (O(1)); names are unique per board and per gateway among live agents.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table gateways (
      id uuid primary key,
      name text not null,
      url text not null,
      token text not null,
      workspace_root text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`
  yield* sql`create unique index gateways_name_key on gateways (lower(name))`
  yield* sql`
    create table boards (
      id uuid primary key,
      gateway_id uuid not null references gateways (id) on delete cascade,
      name text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`
  yield* sql`create unique index boards_name_key on boards (gateway_id, lower(name))`
  yield* sql`
    create table agents (
      id uuid primary key,
      gateway_id uuid not null references gateways (id) on delete cascade,
      board_id uuid references boards (id) on delete set null,
      name text not null,
      role text not null,
      gateway_agent_id text not null,
      session_key text not null,
      status text not null,
      state_path text not null,
      last_seen_at timestamptz,
      last_error jsonb,
      offline_reason text,
      token_hash text,
      pending_token_hash text,
      heartbeat_config jsonb not null,
      identity_profile jsonb,
      identity_template text,
      soul_template text,
      snapshot jsonb not null,
      machine_version text not null,
      version bigint not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz
    )`
  yield* sql`create unique index agents_token_hash_key on agents (token_hash) where token_hash is not null`
  yield* sql`create index agents_pending_token_hash_idx on agents (pending_token_hash) where pending_token_hash is not null`
  yield* sql`create unique index agents_board_name_key on agents (board_id, lower(name)) where deleted_at is null and board_id is not null`
  yield* sql`create unique index agents_gateway_name_key on agents (gateway_id, lower(name)) where deleted_at is null`
  yield* sql`create unique index agents_gateway_agent_key on agents (gateway_id, gateway_agent_id) where deleted_at is null`
  yield* sql`
    create table activity (
      id bigserial primary key,
      event_type text not null,
      message text not null,
      agent_id uuid,
      board_id uuid,
      gateway_id uuid,
      created_at timestamptz not null default now()
    )`
  yield* sql`create index activity_agent_idx on activity (agent_id, id desc)`
})
