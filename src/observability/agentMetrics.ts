import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { agentsByState, eventToPersist } from "./metrics.ts"

/**
 * Records, for each event whose snapshot was just saved, the time since the actor took it
 * (`performance.now()` readings, ms).
 */
export const observeEventToPersist = (offeredAt: ReadonlyArray<number>): void => {
  const now = performance.now()
  for (const at of offeredAt) eventToPersist.observe((now - at) / 1_000)
}

/** Live agents per state path: one grouped count, read from the index on live state paths (migration 0010). */
export const agentStatesQuery = (sql: SqlClient.SqlClient) =>
  sql<{ state: string; count: number }>`
    select state_path as state, count(*)::int as count from agents where deleted_at is null group by state_path order by state_path`

/**
 * Sets the agents-by-state gauge from the read model (a scrape every 15 s costs one aggregate
 * over an index). Every state of `statePaths` is exported, 0 when no agent is in it, so a state
 * that empties shows 0 rather than a missing series.
 */
export const refreshAgentStates = (statePaths: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const rows = yield* agentStatesQuery(yield* SqlClient.SqlClient)
    agentsByState.reset()
    for (const state of statePaths) agentsByState.set({ state }, 0)
    for (const row of rows) agentsByState.set({ state: row.state }, row.count)
  })
