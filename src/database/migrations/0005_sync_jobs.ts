import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Template sync jobs, run in the background (docs/operations.md §6.8), and one row per agent a job
 * covers, so a job survives a restart and resumes where it stopped. At most one job per gateway
 * is queued or running: the partial unique index settles two concurrent requests.
 * `sync_job_agents.agent_id` has no foreign key: a job's record outlives the agents it names.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table sync_jobs (
      id uuid primary key,
      gateway_id uuid not null references gateways (id) on delete cascade,
      options jsonb not null,
      status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
      message text,
      planned boolean not null default false,
      total_count integer not null default 0,
      updated_count integer not null default 0,
      skipped_count integer not null default 0,
      failed_count integer not null default 0,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz
    )`
  yield* sql`create unique index sync_jobs_active_key on sync_jobs (gateway_id) where status in ('queued', 'running')`
  yield* sql`create index sync_jobs_gateway_idx on sync_jobs (gateway_id, created_at desc)`
  yield* sql`
    create table sync_job_agents (
      job_id uuid not null references sync_jobs (id) on delete cascade,
      agent_id uuid not null,
      position integer not null,
      agent_name text not null,
      board_id uuid,
      role text not null,
      status text not null default 'pending' check (status in ('pending', 'updated', 'skipped', 'error')),
      message text,
      token_source text,
      sent_generation integer,
      attempts integer not null default 0,
      updated_at timestamptz not null default now(),
      primary key (job_id, agent_id)
    )`
  yield* sql`create index sync_job_agents_order_idx on sync_job_agents (job_id, position)`
})
