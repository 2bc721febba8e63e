import type { SqlClient } from "@effect/sql"
import { Effect, Schedule } from "effect"
import type { StoredSnapshot } from "../store/AgentRepo.ts"
import { liveAgentRow } from "../store/liveAgentRow.ts"
import type { AgentEntry } from "./startAgentActor.ts"
import { stopAgentActor } from "./agentActorSystem.ts"

/** Reads of a reloaded agent's row: 100 ms doubling to 5 s, 20 retries (about 80 s in all). */
const reloadRead = Schedule.exponential("100 millis").pipe(Schedule.either(Schedule.spaced("5 seconds")), Schedule.intersect(Schedule.recurs(20)))

export interface StaleReloaderOptions {
  readonly entries: Map<string, AgentEntry>
  /** Gateways hosted here or whose restore is under way here. */
  readonly hosting: ReadonlySet<string>
  /** Agents whose actor is being reloaded: callers get 503 (owner-unavailable) for them, not 404. */
  readonly reloading: Set<string>
  /** Counts the reload as a create under way, so a leaving gateway waits for it (±1). */
  readonly creatingFor: (gatewayId: string, delta: number) => void
  /** Starts the actor of a stored row. */
  readonly restoreRow: (gatewayId: string, row: StoredSnapshot) => Effect.Effect<boolean>
  readonly runFork: (effect: Effect.Effect<void, never, SqlClient.SqlClient>) => unknown
}

/**
 * `onStale` for the actor starter: a write refused as stale means another runner stored this
 * agent's version or a newer one, so the actor here is behind. It stops, and if its gateway is
 * hosted here (or being restored here) it is restored from the stored snapshot; a failed read
 * is retried (`reloadRead`) while the gateway stays. Until then the agent is `reloading`
 * (docs/architecture.md §11, docs/operations.md §7.3).
 */
export const makeStaleReloader = (options: StaleReloaderOptions) => {
  const { entries, hosting, reloading, creatingFor, restoreRow, runFork } = options
  return (agentId: string): void => {
    const entry = entries.get(agentId)
    if (entry === undefined) return
    stopAgentActor(entry.actor)
    entries.delete(agentId)
    const { gatewayId } = entry
    if (!hosting.has(gatewayId)) return
    reloading.add(agentId)
    creatingFor(gatewayId, 1)
    runFork(
      liveAgentRow(agentId).pipe(
        Effect.tapError((error) => Effect.logWarning(`agent ${agentId}: reading its row to reload its actor failed; retrying`, error)),
        Effect.retry({ schedule: reloadRead, while: () => hosting.has(gatewayId) }),
        Effect.flatMap((row) => (row._tag === "Some" && hosting.has(gatewayId) ? Effect.asVoid(restoreRow(gatewayId, row.value)) : Effect.void)),
        Effect.catchAll((error) => Effect.logError(`agent ${agentId}: reloading its actor failed`, error)),
        Effect.ensuring(
          Effect.sync(() => {
            reloading.delete(agentId)
            creatingFor(gatewayId, -1)
          })
        )
      )
    )
  }
}
