import { Effect } from "effect"
import { gatewayRosterPage, type GatewayRowCursor } from "../store/gatewayAgentRows.ts"

/** Agents read per page. */
const PAGE = 5_000

/**
 * Our live agents on one gateway, by gateway agent id → agent id (keyset pages in creation
 * order, an index range each: `agents_gateway_created_idx`, migration 0010). Only the two ids
 * are read: the watcher reads the roster on every reconciliation, and a full agent row per
 * agent would make that the largest idle cost of a big fleet. Errors: SqlError.
 */
export const gatewayRoster = Effect.fn("Liveness.gatewayRoster")(function* (gatewayId: string) {
  const roster = new Map<string, string>()
  let after: GatewayRowCursor | undefined
  for (;;) {
    const rows = yield* gatewayRosterPage(gatewayId, after, PAGE)
    for (const row of rows) roster.set(row.gatewayAgentId, row.id)
    const last = rows.at(-1)
    if (rows.length < PAGE || last === undefined) return roster
    after = last.cursor
  }
})

/** Gateway agent ids that look like ours (docs/architecture.md §5.1: `mc-…`, `lead-…`). */
export const looksManaged = (gatewayAgentId: string): boolean => /^(mc-|lead-)/.test(gatewayAgentId)
