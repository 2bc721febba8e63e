import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** Agents read per page. */
const PAGE = 5_000

/** Keyset position: creation instant (µs since epoch, as text) and id. */
interface RosterCursor {
  readonly createdMicros: string
  readonly id: string
}

/**
 * Our live agents on one gateway, by gateway agent id → agent id (keyset pages in creation
 * order, an index range each: `agents_gateway_created_idx`, migration 0010). Only the two ids
 * are read: the watcher reads the roster on every reconciliation, and a full agent row per
 * agent would make that the largest idle cost of a big fleet. Errors: SqlError.
 */
export const gatewayRoster = Effect.fn("Liveness.gatewayRoster")(function* (gatewayId: string) {
  const sql = yield* SqlClient.SqlClient
  const roster = new Map<string, string>()
  let after: RosterCursor | undefined
  for (;;) {
    const rows = yield* sql<{ id: string; gatewayAgentId: string; createdMicros: string }>`
      select id, gateway_agent_id, (extract(epoch from created_at) * 1000000)::bigint::text as created_micros
      from agents
      where gateway_id = ${gatewayId} and deleted_at is null ${
        after === undefined
          ? sql``
          : sql`and (created_at, id) > (timestamptz 'epoch' + ${after.createdMicros}::bigint * interval '1 microsecond', ${after.id}::uuid)`
      }
      order by created_at, id limit ${PAGE}`
    for (const row of rows) roster.set(row.gatewayAgentId, row.id)
    const last = rows.at(-1)
    if (rows.length < PAGE || last === undefined) return roster
    after = { createdMicros: last.createdMicros, id: last.id }
  }
})

/** Gateway agent ids that look like ours (docs/architecture.md §5.1: `mc-…`, `lead-…`). */
export const looksManaged = (gatewayAgentId: string): boolean => /^(mc-|lead-)/.test(gatewayAgentId)
