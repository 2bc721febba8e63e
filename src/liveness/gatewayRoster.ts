import { Effect } from "effect"
import { AgentRepo, type LiveCursor } from "../store/AgentRepo.ts"

/** Agents read per page. */
const PAGE = 1_000

/**
 * Our live agents on one gateway, by gateway agent id → agent id (keyset pages, an index range
 * each). Errors: SqlError.
 */
export const gatewayRoster = Effect.fn("Liveness.gatewayRoster")(function* (gatewayId: string) {
  const repo = yield* AgentRepo
  const roster = new Map<string, string>()
  let after: LiveCursor | undefined
  for (;;) {
    const page = yield* repo.page({ gatewayId, limit: PAGE, after })
    for (const agent of page.items) roster.set(agent.gatewayAgentId, agent.id)
    if (page.next === null) return roster
    after = page.next
  }
})

/** Gateway agent ids that look like ours (docs/architecture.md §5.1: `mc-…`, `lead-…`). */
export const looksManaged = (gatewayAgentId: string): boolean => /^(mc-|lead-)/.test(gatewayAgentId)
