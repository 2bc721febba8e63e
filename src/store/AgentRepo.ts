import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"
import type { AgentProjection } from "../agents/agentProjection.ts"
import { saveSnapshots, type SaveChanges, type SavedStamps, type SnapshotSave } from "./agentSaves.ts"
import { batchedReads } from "./batchedReads.ts"
import type { NewBeat } from "./changeCursor.ts"
import { type AgentFilter, agentFilterClauses, type FleetSummary, readFleetSummary } from "./fleetQueries.ts"

import type { AgentKeysetPage, AgentPage, AgentRow, LiveCursor, NewAgent, StoredSnapshot, StoredSnapshotAt } from "./agentRows.ts"

export type { AgentKeys, AgentKeysetPage, AgentPage, AgentRow, LiveCursor, NewAgent, StoredSnapshot, StoredSnapshotAt } from "./agentRows.ts"
export { isLiveCursor } from "./agentRows.ts"

export type { SaveChanges, SavedStamps, SnapshotSave } from "./agentSaves.ts"

export interface AgentRepoShape {
  /**
   * Inserts the agent. With `workerCap`, the board's live workers are counted under a per-board
   * advisory lock in the same transaction, so concurrent creates (on any instance) cannot pass
   * the cap together; the answer is then false and nothing is inserted.
   */
  readonly insert: (agent: NewAgent, options?: { readonly workerCap?: number | undefined }) => Effect.Effect<boolean, SqlError>
  /** Writes the projection and snapshot of `version`; an older version never overwrites a newer. */
  readonly save: (id: string, projection: AgentProjection, snapshot: unknown, version: number) => Effect.Effect<void, SqlError>
  /**
   * `save` for many agents in one statement (group commit, `saveSnapshots`), its input
   * in agent id order (the plan decides the order rows are locked in). With `beats`, the same statement records each saved agent's newest liveness change
   * (with its event type) at its snapshot's version, so a batch of beats is one statement.
   * With `changes`, it also inserts the saved agents' activity and transitions (`SaveChanges`):
   * one statement, atomic by itself. Answers the rows it saved with their stamps: a save missing
   * from them found an equal or newer version stored.
   */
  readonly saveMany: (saves: ReadonlyArray<SnapshotSave>, beats?: ReadonlyArray<NewBeat>, changes?: SaveChanges) => Effect.Effect<ReadonlyArray<SavedStamps>, SqlError>
  /** Records the hash of a token about to be written, so the agent can authenticate at once. */
  readonly stagePendingToken: (id: string, tokenHash: string) => Effect.Effect<void, SqlError>
  /** The staged token hash not yet saved as the agent's token (an apply interrupted after staging it), if any. */
  readonly stagedTokenHash: (id: string) => Effect.Effect<Option.Option<string>, SqlError>
  /** Every agent that is not deleted, with its snapshot, for restore at start-up. */
  readonly live: Effect.Effect<ReadonlyArray<StoredSnapshot>, SqlError>
  /** Up to `limit` live agents after `after` (from the start without it), in creation order, through an index range. */
  readonly livePage: (after: LiveCursor | undefined, limit: number) => Effect.Effect<ReadonlyArray<StoredSnapshotAt>, SqlError>
  /** The agent's read model and snapshot; a deleted agent only with `includeDeleted`. */
  readonly get: (id: string, options?: { includeDeleted?: boolean }) => Effect.Effect<Option.Option<AgentRow & { snapshot: unknown }>, SqlError>
  /**
   * The agent's read model as its view shows it (a deleted agent too; of the snapshot only the
   * lifecycle fields of `agentViewSnapshot`, never the token hash): reads that arrive together
   * share one statement (`batchedReads`), so a heartbeat's answer costs a fraction of one.
   */
  readonly readModel: (id: string) => Effect.Effect<Option.Option<AgentRow & { snapshot: unknown }>, SqlError>
  /** A page by offset with the total: both cost O(offset) and O(agents); `page` pages in O(limit). */
  readonly list: (filter: AgentFilter & { limit: number; offset: number }) => Effect.Effect<AgentPage, SqlError>
  /** Up to `limit` live agents after the cursor `after`, in creation order (keyset; an index range, no count). */
  readonly page: (filter: AgentFilter & { limit: number; after: LiveCursor | undefined }) => Effect.Effect<AgentKeysetPage, SqlError>
  /**
   * Live agents counted by gateway, board and state, with the problem counts; `stuckAfterS`
   * (seconds) is how long an agent may stay busy before it counts as stuck. Two statements, index reads.
   */
  readonly summary: (stuckAfterS: number) => Effect.Effect<FleetSummary, SqlError>
  /** O(1) through the unique index on `token_hash` (or the staged `pending_token_hash`). */
  readonly findIdByTokenHash: (tokenHash: string) => Effect.Effect<Option.Option<string>, SqlError>
  readonly findByName: (filter: { name: string; boardId: string | null; gatewayId: string }) => Effect.Effect<Option.Option<string>, SqlError>
  /** The live gateway-main agent of a gateway (its session key), if any. */
  readonly mainOf: (gatewayId: string) => Effect.Effect<Option.Option<{ readonly id: string; readonly sessionKey: string }>, SqlError>
  /** The live lead of a board, if any. */
  readonly leadOf: (boardId: string) => Effect.Effect<Option.Option<string>, SqlError>
  /**
   * Writes a new name into the read model before the rename event is sent, so the unique
   * index settles a race between two renames (SqlError 23505 → 409) instead of a snapshot
   * save that could never succeed.
   */
  readonly claimName: (id: string, name: string) => Effect.Effect<void, SqlError>
  /**
   * Writes a converted identity into the read model before the `agent.convert` event is sent,
   * so the unique index on (gateway, gateway agent id) refuses a second main agent (23505 → 409)
   * instead of a snapshot save that could never succeed.
   */
  readonly claimIdentity: (
    id: string,
    identity: { readonly role: string; readonly boardId: string | null; readonly gatewayAgentId: string; readonly sessionKey: string }
  ) => Effect.Effect<void, SqlError>
  /** Whether a live agent other than `exceptId` has `name` on the gateway (names are unique per gateway). */
  readonly nameTaken: (filter: { name: string; gatewayId: string; exceptId?: string | undefined }) => Effect.Effect<boolean, SqlError>
  /**
   * The live agent that holds `gatewayAgentId` on the gateway: as its identity, or (`retired`) as
   * the old identity of a conversion not yet applied (`retired` in its persisted snapshot).
   */
  readonly holderOf: (gatewayId: string, gatewayAgentId: string) => Effect.Effect<Option.Option<{ readonly id: string; readonly retired: boolean }>, SqlError>
}

/** Agents table: the read model is a projection of the actor snapshot, written after every transition. */
export class AgentRepo extends Context.Tag("switchyard/AgentRepo")<AgentRepo, AgentRepoShape>() {}

/** The read-model columns a view may show (no token hash), optionally qualified by a table alias. */
export const agentViewColumns = (alias?: string): string =>
  [
    "id", "gateway_id", "board_id", "name", "role", "gateway_agent_id", "session_key", "status", "state_path",
    "last_seen_at", "last_error", "offline_reason", "heartbeat_config", "identity_profile", "identity_template", "soul_template",
    "liveness", "machine_version", "version", "created_at", "updated_at"
  ]
    .map((column) => (alias === undefined ? column : `${alias}.${column}`))
    .join(", ")

const READ_COLUMNS = `${agentViewColumns()}, token_hash`

/**
 * Of an agent's snapshot, only the lifecycle fields its view shows, as `snapshot` (SQL, with
 * the table's `alias`): a whole snapshot would be read and parsed per row.
 */
export const agentViewSnapshot = (alias: string): string => `case when ${alias}.snapshot ? 'context' then jsonb_build_object('context', jsonb_build_object(
  'generation', ${alias}.snapshot #> '{context,generation}', 'attempts', ${alias}.snapshot #> '{context,attempts}',
  'wakeAttempts', ${alias}.snapshot #> '{context,wakeAttempts}', 'deadline', ${alias}.snapshot #> '{context,deadline}',
  'reportedStatus', ${alias}.snapshot #> '{context,reportedStatus}', 'tokenSource', ${alias}.snapshot #> '{context,tokenSource}')) else '{}'::jsonb end as snapshot`

const columns = (p: AgentProjection) => ({
  role: p.role,
  boardId: p.boardId,
  gatewayAgentId: p.gatewayAgentId,
  sessionKey: p.sessionKey,
  name: p.name,
  status: p.status,
  statePath: p.statePath,
  lastSeenAt: p.lastSeenAt,
  lastError: p.lastError === null ? null : JSON.stringify(p.lastError),
  offlineReason: p.offlineReason,
  tokenHash: p.tokenHash,
  heartbeatConfig: JSON.stringify(p.heartbeatConfig),
  identityProfile: p.identityProfile === null ? null : JSON.stringify(p.identityProfile),
  identityTemplate: p.identityTemplate,
  soulTemplate: p.soulTemplate,
  liveness: p.liveness === undefined || p.liveness === null ? null : JSON.stringify(p.liveness)
})

/** The `LiveCursor` of a row, computed in SQL. */
const CURSOR = "(extract(epoch from created_at) * 1000000)::bigint::text || '.' || id::text"

/**
 * The statements behind the lookups that run per event or per request, each served by an
 * index (migrations 0010, 0011): the repository runs them, and a test EXPLAINs them on a large fleet.
 */
export const agentQueries = (sql: SqlClient.SqlClient) => {
  const after = (cursor: LiveCursor | undefined) => {
    if (cursor === undefined) return []
    const [micros = "0", id = ""] = cursor.split(".")
    return [sql`(created_at, id) > (timestamptz 'epoch' + ${micros}::bigint * interval '1 microsecond', ${id}::uuid)`]
  }
  const scope = (filter: AgentFilter) => agentFilterClauses(sql, filter)
  return {
    mainOf: (gatewayId: string) =>
      sql<{ id: string; sessionKey: string }>`select id, session_key from agents where gateway_id = ${gatewayId} and role = 'main' and deleted_at is null`,
    leadOf: (boardId: string) => sql<{ id: string }>`select id from agents where board_id = ${boardId} and role = 'lead' and deleted_at is null`,
    /** The board's live workers, counted up to `cap` (enough to refuse one more). */
    workersUpTo: (boardId: string, cap: number) =>
      sql<{ count: string }>`select count(*) from (select 1 from agents where board_id = ${boardId} and role = 'worker' and deleted_at is null limit ${cap}) as workers`,
    /**
     * Live agents after `cursor` in creation order; of one gateway with `gatewayId` (its own index
     * range). Columns are named as the row is typed, so a client without name transforms reads it too.
     */
    livePage: (cursor: LiveCursor | undefined, limit: number, gatewayId?: string) =>
      sql<StoredSnapshotAt>`select id, snapshot, machine_version as "machineVersion", version, ${sql.unsafe(CURSOR)} as cursor from agents
        where ${sql.and([...scope({ gatewayId }), ...after(cursor)])} order by created_at, id limit ${limit}`,
    /** One gateway's live agents after `cursor`, only their two ids (the liveness roster; a whole row per agent would be its largest idle cost). */
    rosterPage: (gatewayId: string, cursor: LiveCursor | undefined, limit: number) =>
      sql<{ id: string; gatewayAgentId: string; cursor: LiveCursor }>`select id, gateway_agent_id, ${sql.unsafe(CURSOR)} as cursor from agents
        where ${sql.and([...scope({ gatewayId }), ...after(cursor)])} order by created_at, id limit ${limit}`,
    /**
     * A fingerprint of one gateway's live agents, as `<count>.<sum>.<sum>` of two hashes of
     * (id, gateway agent id): it changes when an agent is inserted, deleted or given another gateway
     * agent id, so the liveness roster is read again only then (one aggregate over the index range).
     */
    rosterFingerprint: (gatewayId: string) =>
      sql<{ fingerprint: string }>`select count(*)::text || '.' || coalesce(sum(hashtext(id::text || ' ' || gateway_agent_id)), 0)::text || '.'
          || coalesce(sum(hashtext(gateway_agent_id || ' ' || id::text)), 0)::text as fingerprint
        from agents where ${sql.and(scope({ gatewayId }))}`,
    page: (filter: AgentFilter & { readonly limit: number; readonly after: LiveCursor | undefined }) =>
      sql<AgentRow & { cursor: LiveCursor }>`select ${sql.unsafe(READ_COLUMNS)}, ${sql.unsafe(CURSOR)} as cursor from agents
        where ${sql.and([...scope(filter), ...after(filter.after)])} order by created_at, id limit ${filter.limit}`,
    /** A page by offset, in creation order. */
    list: (filter: AgentFilter & { readonly limit: number; readonly offset: number }) =>
      sql<AgentRow>`select ${sql.unsafe(READ_COLUMNS)} from agents where ${sql.and(scope(filter))} order by created_at, id limit ${filter.limit} offset ${filter.offset}`,
    count: (filter: AgentFilter) => sql<{ count: string }>`select count(*) from agents where ${sql.and(scope(filter))}`
  }
}

export const AgentRepoLive = Layer.effect(
  AgentRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const read = sql.unsafe(READ_COLUMNS)
    const queries = agentQueries(sql)
    const saveMany = saveSnapshots(sql)
    const readModel = batchedReads((ids) =>
      sql<AgentRow & { snapshot: unknown }>`select ${sql.unsafe(`${agentViewColumns("a")}, ${agentViewSnapshot("a")}`)} from agents a
        where a.id = any(string_to_array(${ids.join(",")}, ',')::uuid[])`
    )
    return AgentRepo.of({
      insert: (agent, options) => {
        const row = sql`insert into agents ${sql.insert({
          ...columns(agent.projection),
          id: agent.id,
          gatewayId: agent.gatewayId,
          boardId: agent.boardId,
          role: agent.role,
          gatewayAgentId: agent.gatewayAgentId,
          sessionKey: agent.sessionKey,
          snapshot: JSON.stringify(agent.snapshot),
          machineVersion: agent.machineVersion,
          version: 0
        })}`
        const cap = options?.workerCap
        const boardId = agent.boardId
        if (cap === undefined || boardId === null) return Effect.as(row, true)
        return Effect.gen(function* () {
          yield* sql`select pg_advisory_xact_lock(hashtext(${`board-workers:${boardId}`}))`
          const [counted] = yield* queries.workersUpTo(boardId, cap)
          if (Number(counted?.count ?? 0) >= cap) return false
          yield* row
          return true
        }).pipe(sql.withTransaction)
      },
      save: (id, projection, snapshot, version) => Effect.asVoid(saveMany([{ id, projection, snapshot, version }])),
      saveMany,
      stagePendingToken: (id, tokenHash) => sql`update agents set pending_token_hash = ${tokenHash} where id = ${id}`.pipe(Effect.asVoid),
      stagedTokenHash: (id) =>
        sql<{ pendingTokenHash: string | null }>`select pending_token_hash from agents where id = ${id}`.pipe(
          Effect.map((rows) => Option.fromNullable(rows[0]?.pendingTokenHash))
        ),
      live: sql<StoredSnapshot>`select id, snapshot, machine_version, version from agents where deleted_at is null order by created_at, id`,
      livePage: queries.livePage,
      get: (id, options) =>
        sql<AgentRow & { snapshot: unknown }>`select ${read}, snapshot from agents where id = ${id} ${
          options?.includeDeleted === true ? sql`` : sql`and deleted_at is null`
        }`.pipe(
          Effect.map((rows) => Option.fromNullable(rows[0]))
        ),
      readModel,
      list: (filter) =>
        Effect.all({
          items: queries.list(filter),
          total: queries.count(filter).pipe(Effect.map((rows) => Number(rows[0]?.count ?? 0)))
        }),
      page: (filter) =>
        Effect.map(queries.page(filter), (rows) => ({
          items: rows.map(({ cursor: _, ...row }) => row),
          next: rows.length === filter.limit ? (rows.at(-1)?.cursor ?? null) : null
        })),
      summary: (stuckAfterS) => readFleetSummary(sql, stuckAfterS),
      findIdByTokenHash: (tokenHash) =>
        sql<{ id: string }>`
          select id from agents where token_hash = ${tokenHash} and deleted_at is null
          union all
          select id from agents where pending_token_hash = ${tokenHash} and deleted_at is null
          limit 1`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]?.id))),
      findByName: ({ name, boardId, gatewayId }) =>
        (boardId === null
          ? sql<{ id: string }>`select id from agents where gateway_id = ${gatewayId} and board_id is null and lower(name) = lower(${name}) and deleted_at is null`
          : sql<{ id: string }>`select id from agents where board_id = ${boardId} and lower(name) = lower(${name}) and deleted_at is null`
        ).pipe(Effect.map((rows) => Option.fromNullable(rows[0]?.id))),
      mainOf: (gatewayId) => Effect.map(queries.mainOf(gatewayId), (rows) => Option.fromNullable(rows[0])),
      leadOf: (boardId) => Effect.map(queries.leadOf(boardId), (rows) => Option.fromNullable(rows[0]?.id)),
      claimName: (id, name) => sql`update agents set name = ${name} where id = ${id}`.pipe(Effect.asVoid),
      claimIdentity: (id, identity) =>
        sql`update agents set ${sql.update({ role: identity.role, boardId: identity.boardId, gatewayAgentId: identity.gatewayAgentId, sessionKey: identity.sessionKey })} where id = ${id}`.pipe(
          Effect.asVoid
        ),
      holderOf: (gatewayId, gatewayAgentId) =>
        sql<{ id: string; retired: boolean }>`
          select id, gateway_agent_id <> ${gatewayAgentId} as retired from agents
          where gateway_id = ${gatewayId} and deleted_at is null
            and (gateway_agent_id = ${gatewayAgentId} or snapshot->'context'->'retired'->>'gatewayAgentId' = ${gatewayAgentId})`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]))),
      nameTaken: ({ name, gatewayId, exceptId }) =>
        sql<{ id: string }>`select id from agents where gateway_id = ${gatewayId} and lower(name) = lower(${name}) and deleted_at is null`.pipe(
          Effect.map((rows) => rows.some((row) => row.id !== exceptId))
        )
    })
  })
)
