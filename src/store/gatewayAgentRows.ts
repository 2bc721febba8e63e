import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import { agentQueries, type LiveCursor, type StoredSnapshotAt } from "./AgentRepo.ts"

/** Keyset position in one gateway's live agents: a `LiveCursor` (creation instant in µs, and id). */
export type GatewayRowCursor = LiveCursor

/**
 * Up to `limit` live agents of one gateway after `after`, in creation order: an index range on
 * `agents_gateway_created_idx` (migration 0010). The restore
 * of one gateway's actors pages through it (docs/architecture.md "Cluster"). Read without the
 * client's name transforms (the query names its columns as typed): a restore reads every agent,
 * and re-casing each row's column names would cost a copy of the row and a string per column.
 */
export const liveGatewayPage = (gatewayId: string, after: GatewayRowCursor | undefined, limit: number): Effect.Effect<ReadonlyArray<StoredSnapshotAt>, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => agentQueries(sql.withoutTransforms()).livePage(after, limit, gatewayId))

/** Up to `limit` of one gateway's live agents after `after` as `{id, gatewayAgentId, cursor}`, in creation order (same index range as `liveGatewayPage`). */
export const gatewayRosterPage = (gatewayId: string, after: GatewayRowCursor | undefined, limit: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => agentQueries(sql).rosterPage(gatewayId, after, limit))

/** A fingerprint of one gateway's live agents (ids and gateway agent ids): equal fingerprints, the same roster (`agentQueries.rosterFingerprint`). */
export const gatewayRosterFingerprint = (gatewayId: string): Effect.Effect<string, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.map(agentQueries(sql).rosterFingerprint(gatewayId), (rows) => rows[0]?.fingerprint ?? ""))

/** The gateway an agent belongs to (deleted agents included: their actor may still finish); none if unknown. */
export const gatewayOfAgent = (agentId: string): Effect.Effect<Option.Option<string>, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // Not a uuid: no agent, and no cast error.
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(agentId)) return Option.none()
    const rows = yield* sql<{ gatewayId: string }>`select gateway_id from agents where id = ${agentId}`
    return Option.fromNullable(rows[0]?.gatewayId)
  })
