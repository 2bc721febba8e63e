import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Workspace drift (docs/operations.md §8 "Workspace drift"): `agent_workspace_files` holds the
 * sha256 of each managed file as Switchyard last wrote it (provision, update, template sync);
 * `agent_workspace_checks` holds the last comparison with the gateway: when, and which managed
 * files differ. Both go with their agent.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table agent_workspace_files (
      agent_id uuid not null references agents (id) on delete cascade,
      name text not null,
      sha256 text not null,
      written_at timestamptz not null default now(),
      primary key (agent_id, name)
    )`
  yield* sql`
    create table agent_workspace_checks (
      agent_id uuid primary key references agents (id) on delete cascade,
      checked_at timestamptz not null,
      drifted jsonb not null
    )`
})
