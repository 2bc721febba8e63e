import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { ActivityEntry } from "./ActivityRepo.ts"
import { changeCursorSql, type NewBeat } from "./changeCursor.ts"
import { SAVE_ROW, SAVE_VALUES, saveRow, type SnapshotSave } from "./saveRow.ts"
import { type RankedTransition, transitionRow } from "./transitionRow.ts"

export type { SnapshotSave } from "./saveRow.ts"

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

/** The record type of a beat row. */
const BEAT_ROW = "agent_id uuid, gateway_id uuid, board_id uuid, version bigint, event_type text, at timestamptz, rank bigint"

const beatRow = (b: NewBeat) => ({
  agent_id: b.agentId,
  gateway_id: b.gatewayId,
  board_id: b.boardId,
  version: b.version,
  event_type: b.eventType,
  at: b.at.toISOString(),
  rank: b.rank
})


/**
 * What a save's statement also inserts for the agents it saved (none for one not saved): activity
 * rows, in order, each with the agent whose write carries it (`writer`), and ranked transitions.
 */
export interface SaveChanges {
  readonly activity: ReadonlyArray<{ readonly writer: string; readonly entry: ActivityEntry }>
  readonly transitions: ReadonlyArray<RankedTransition>
}

const activityRow = ({ writer, entry }: SaveChanges["activity"][number]) => ({
  writer,
  event_type: entry.eventType,
  message: entry.message,
  agent_id: entry.agentId ?? null,
  board_id: entry.boardId ?? null,
  gateway_id: entry.gatewayId ?? null
})


/** In agent id order: a stable input (the plan decides the order rows are locked in, docs/architecture.md §6.5). */
const byId = (saves: ReadonlyArray<SnapshotSave>) => [...saves].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/**
 * The snapshot save of many agents in ONE statement (docs/architecture.md §6.5): its input in
 * agent id order, an older version never overwriting a newer; with `beats`, the same statement
 * upserts each saved agent's newest beat at its snapshot's version, with its event type and
 * cursor (`agent_beats`, §8.1; none for a snapshot not saved, being older or its row gone); with
 * `changes`, it also inserts the saved agents' activity rows (in order) and transitions (numbered
 * by this statement's transaction), so a group commit is one statement, atomic by itself.
 * Answers the rows it saved with their stamps (`SavedStamps`), so a caller can answer with the
 * saved read model without reading it back: a save missing from them found an equal or newer
 * version stored.
 */
export const saveSnapshots =
  (sql: SqlClient.SqlClient) =>
  (saves: ReadonlyArray<SnapshotSave>, beats: ReadonlyArray<NewBeat> = [], changes?: SaveChanges): Effect.Effect<ReadonlyArray<SavedStamps>, SqlError> => {
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
      from (select ${sql.unsafe(SAVE_VALUES)} from jsonb_to_recordset(${JSON.stringify(byId(saves).map(saveRow))}::jsonb) as r(${sql.unsafe(SAVE_ROW)})) as v
      where a.id = v.id and a.version < v.version`
    const activity = changes?.activity ?? []
    const transitions = changes?.transitions ?? []
    if (beats.length === 0 && activity.length === 0 && transitions.length === 0) return sql<SavedStamps>`${update} returning ${sql.unsafe(STAMPS_OF_A)}`
    const beatsPart =
      beats.length === 0
        ? sql``
        : sql`, beats as (
      insert into agent_beats (agent_id, gateway_id, board_id, cursor, version, event_type, at)
      select saved.id, b.gateway_id, b.board_id, ${sql.unsafe(changeCursorSql("b.rank"))}, b.version, b.event_type, b.at
      from saved join jsonb_to_recordset(${JSON.stringify(beats.map(beatRow))}::jsonb) as b(${sql.unsafe(BEAT_ROW)})
        on b.agent_id = saved.id and b.version = saved.version
      order by saved.id
      on conflict (agent_id) do update set gateway_id = excluded.gateway_id, board_id = excluded.board_id, cursor = excluded.cursor,
        version = excluded.version, event_type = excluded.event_type, at = excluded.at
      where agent_beats.version < excluded.version)`
    // In the order given (ids follow it), only a saved writer's.
    const activityPart =
      activity.length === 0
        ? sql``
        : sql`, activity_rows as (
      insert into activity (event_type, message, agent_id, board_id, gateway_id)
      select v.event_type, v.message, v.agent_id, v.board_id, v.gateway_id
      from rows from (jsonb_to_recordset(${JSON.stringify(activity.map(activityRow))}::jsonb) as (writer uuid, event_type text, message text, agent_id uuid, board_id uuid, gateway_id uuid))
        with ordinality as v(writer, event_type, message, agent_id, board_id, gateway_id, n)
      where v.writer in (select id from saved)
      order by v.n)`
    const transitionsPart =
      transitions.length === 0
        ? sql``
        : sql`, transition_rows as (
      insert into agent_transitions (id, agent_id, gateway_id, board_id, version, from_state, to_state, event_type, error_tag, at)
      select ${sql.unsafe(changeCursorSql("v.rank"))}, v.agent_id, v.gateway_id, v.board_id, v.version, v.from_state, v.to_state, v.event_type, v.error_tag, v.at
      from jsonb_to_recordset(${JSON.stringify(transitions.map(transitionRow))}::jsonb) as v(agent_id uuid, gateway_id uuid, board_id uuid, version bigint,
        from_state text, to_state text, event_type text, error_tag text, at timestamptz, rank bigint)
      where v.agent_id in (select id from saved))`
    return sql<SavedStamps>`
      with saved as (${update} returning a.version, ${sql.unsafe(STAMPS_OF_A)})${beatsPart}${activityPart}${transitionsPart}
      select ${sql.unsafe(STAMPS)} from saved`
  }
