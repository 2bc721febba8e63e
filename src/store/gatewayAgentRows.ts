import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { StoredSnapshot } from "./AgentRepo.ts"

/** Keyset position in one gateway's live agents: creation instant (µs since epoch) and id. */
export interface GatewayRowCursor {
  readonly createdMicros: string
  readonly id: string
}

export interface GatewayStoredSnapshot extends StoredSnapshot {
  readonly cursor: GatewayRowCursor
}

/**
 * Up to `limit` live agents of one gateway after `after`, in creation order: an index range on
 * `agents_gateway_created_idx` (migration 0010). The restore
 * of one gateway's actors pages through it (docs/architecture.md "Cluster").
 */
export const liveGatewayPage = (gatewayId: string, after: GatewayRowCursor | undefined, limit: number): Effect.Effect<ReadonlyArray<GatewayStoredSnapshot>, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; snapshot: unknown; machineVersion: string; version: string; createdMicros: string }>`
      select id, snapshot, machine_version, version, (extract(epoch from created_at) * 1000000)::bigint::text as created_micros
      from agents
      where gateway_id = ${gatewayId} and deleted_at is null ${
        after === undefined
          ? sql``
          : sql`and (created_at, id) > (timestamptz 'epoch' + ${after.createdMicros}::bigint * interval '1 microsecond', ${after.id}::uuid)`
      }
      order by created_at, id limit ${limit}`
    return rows.map(({ createdMicros, ...row }) => ({ ...row, cursor: { createdMicros, id: row.id } }))
  })

/** The gateway an agent belongs to (deleted agents included: their actor may still finish); none if unknown. */
export const gatewayOfAgent = (agentId: string): Effect.Effect<Option.Option<string>, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // Not a uuid: no agent, and no cast error.
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(agentId)) return Option.none()
    const rows = yield* sql<{ gatewayId: string }>`select gateway_id from agents where id = ${agentId}`
    return Option.fromNullable(rows[0]?.gatewayId)
  })
