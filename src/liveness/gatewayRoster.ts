import { Effect } from "effect"
import { gatewayRosterFingerprint, gatewayRosterPage, type GatewayRowCursor } from "../store/gatewayAgentRows.ts"

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

/** A roster read with the fingerprint it matches (undefined when the agents changed during the read). */
export interface RosterRead {
  readonly roster: Map<string, string>
  readonly fingerprint: string | undefined
}

/**
 * Our live agents on one gateway unless its fingerprint is still `known` (then undefined, and
 * only one aggregate was read): at 100,000 agents a read is 20 pages of two ids, and most
 * reconciliations find none inserted, deleted or converted (docs/operations.md §8). The
 * fingerprint is read before and after the pages: a change during the read leaves it unknown, so
 * the next check reads again. Errors: SqlError.
 */
export const gatewayRosterIfChanged = Effect.fn("Liveness.gatewayRosterIfChanged")(function* (gatewayId: string, known: string | undefined) {
  const before = yield* gatewayRosterFingerprint(gatewayId)
  if (before === known) return undefined
  const roster = yield* gatewayRoster(gatewayId)
  const after = yield* gatewayRosterFingerprint(gatewayId)
  return { roster, fingerprint: before === after ? before : undefined } satisfies RosterRead
})

/** Gateway agent ids that look like ours (docs/architecture.md §5.1: `mc-…`, `lead-…`). */
export const looksManaged = (gatewayAgentId: string): boolean => gatewayAgentId.startsWith("mc-") || gatewayAgentId.startsWith("lead-")
