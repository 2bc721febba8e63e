import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { AgentProjection } from "../agents/agentProjection.ts"
import { changeCursorSql, type NewBeat } from "./changeCursor.ts"

/** One agent's snapshot to save, with its read-model projection. */
export interface SnapshotSave {
  readonly id: string
  readonly projection: AgentProjection
  readonly snapshot: unknown
  readonly version: number
}

/** What a save stored besides its snapshot: the row's gateway and its stamps (a saved write's read model is its projection plus these). */
export interface SavedStamps {
  readonly id: string
  readonly gatewayId: string
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** The columns `SavedStamps` reads, of the updated rows (`a`) and of the `saved` CTE. */
const STAMPS = "id, gateway_id, created_at, updated_at"
const STAMPS_OF_A = STAMPS.split(", ").map((column) => `a.${column}`).join(", ")

/** The record type of `saveMany`'s rows (`jsonb_to_recordset`). */
const SAVE_ROW = `id uuid, role text, board_id uuid, gateway_agent_id text, session_key text, name text, status text, state_path text,
  last_seen_at timestamptz, last_error jsonb, offline_reason text, token_hash text, heartbeat_config jsonb, identity_profile jsonb,
  identity_template text, soul_template text, snapshot jsonb, version bigint, liveness jsonb`

/** The record type of a beat row. */
const BEAT_ROW = "agent_id uuid, gateway_id uuid, board_id uuid, version bigint, event_type text, at timestamptz, rank bigint"

const saveRow = ({ id, projection: p, snapshot, version }: SnapshotSave) => ({
  id,
  role: p.role,
  board_id: p.boardId,
  gateway_agent_id: p.gatewayAgentId,
  session_key: p.sessionKey,
  name: p.name,
  status: p.status,
  state_path: p.statePath,
  last_seen_at: p.lastSeenAt,
  last_error: p.lastError,
  offline_reason: p.offlineReason,
  token_hash: p.tokenHash,
  heartbeat_config: p.heartbeatConfig,
  identity_profile: p.identityProfile,
  identity_template: p.identityTemplate,
  soul_template: p.soulTemplate,
  snapshot,
  version,
  liveness: p.liveness ?? null
})

const beatRow = (b: NewBeat) => ({
  agent_id: b.agentId,
  gateway_id: b.gatewayId,
  board_id: b.boardId,
  version: b.version,
  event_type: b.eventType,
  at: b.at.toISOString(),
  rank: b.rank
})

/** In agent id order, so two batches that share agents (two instances) lock their rows in the same order. */
const byId = (saves: ReadonlyArray<SnapshotSave>) => [...saves].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/**
 * The snapshot save of many agents in ONE statement (docs/architecture.md §6.5): rows updated in
 * agent id order, an older version never overwriting a newer; with `beats`, the same statement
 * upserts each saved agent's newest beat at its snapshot's version, with its event type and
 * cursor (`agent_beats`, §8.1; none for a snapshot not saved, being older or its row gone).
 * Answers the rows it saved with their stamps (`SavedStamps`), so a caller can answer with the
 * saved read model without reading it back: a save missing from them found an equal or newer
 * version stored.
 */
export const saveSnapshots =
  (sql: SqlClient.SqlClient) =>
  (saves: ReadonlyArray<SnapshotSave>, beats: ReadonlyArray<NewBeat> = []): Effect.Effect<ReadonlyArray<SavedStamps>, SqlError> => {
    if (saves.length === 0) return Effect.succeed([])
    const update = sql`
      update agents a set
        role = v.role, board_id = v.board_id, gateway_agent_id = v.gateway_agent_id, session_key = v.session_key, name = v.name,
        status = v.status, state_path = v.state_path, last_seen_at = v.last_seen_at, last_error = v.last_error,
        offline_reason = v.offline_reason, token_hash = v.token_hash, heartbeat_config = v.heartbeat_config,
        identity_profile = v.identity_profile, identity_template = v.identity_template, soul_template = v.soul_template,
        snapshot = v.snapshot, version = v.version, updated_at = now(), liveness = v.liveness,
        pending_token_hash = case when a.pending_token_hash = v.token_hash then null else a.pending_token_hash end,
        deleted_at = case when v.status = 'deleted' then coalesce(a.deleted_at, now()) else null end
      from jsonb_to_recordset(${JSON.stringify(byId(saves).map(saveRow))}::jsonb) as v(${sql.unsafe(SAVE_ROW)})
      where a.id = v.id and a.version < v.version`
    if (beats.length === 0) return sql<SavedStamps>`${update} returning ${sql.unsafe(STAMPS_OF_A)}`
    return sql<SavedStamps>`
      with saved as (${update} returning a.version, ${sql.unsafe(STAMPS_OF_A)}), beats as (
      insert into agent_beats (agent_id, gateway_id, board_id, cursor, version, event_type, at)
      select saved.id, b.gateway_id, b.board_id, ${sql.unsafe(changeCursorSql("b.rank"))}, b.version, b.event_type, b.at
      from saved join jsonb_to_recordset(${JSON.stringify(beats.map(beatRow))}::jsonb) as b(${sql.unsafe(BEAT_ROW)})
        on b.agent_id = saved.id and b.version = saved.version
      order by saved.id
      on conflict (agent_id) do update set gateway_id = excluded.gateway_id, board_id = excluded.board_id, cursor = excluded.cursor,
        version = excluded.version, event_type = excluded.event_type, at = excluded.at
      where agent_beats.version < excluded.version)
      select ${sql.unsafe(STAMPS)} from saved`
  }
