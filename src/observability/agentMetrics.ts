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

/**
 * Sets the agents-by-state gauge from the read model: one grouped count over the live agents
 * (a scrape every 15 s costs one indexed aggregate). States no agent is in are dropped.
 */
export const refreshAgentStates = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ state: string; count: number }>`
    select state_path as state, count(*)::int as count from agents where deleted_at is null group by state_path`
  agentsByState.reset()
  for (const row of rows) agentsByState.set({ state: row.state }, row.count)
})
