import type { SqlClient } from "@effect/sql"
import { Effect, Schedule } from "effect"
import type { StoredSnapshot } from "../store/AgentRepo.ts"
import type { WriterServices } from "../snapshots/SnapshotWriter.ts"
import { liveAgentRow } from "../store/liveAgentRow.ts"
import type { AgentEntry } from "./startAgentActor.ts"
import { stopAgentActor } from "./agentActorSystem.ts"

/** Reads of a reloaded agent's row: 100 ms doubling to 5 s, 20 retries (about 80 s in all). */
const reloadRead = Schedule.exponential("100 millis").pipe(Schedule.either(Schedule.spaced("5 seconds")), Schedule.intersect(Schedule.recurs(20)))

export interface ActorReloaderOptions {
  readonly entries: Map<string, AgentEntry>
  /** Gateways hosted here or whose restore is under way here. */
  readonly hosting: ReadonlySet<string>
  /**
   * Agents whose actor is being reloaded, with why: callers get 503 (`AgentsRestoring` with that
   * reason) for them, not 404.
   */
  readonly reloading: Map<string, "owner-unavailable" | "restarting">
  /** Counts the reload as a create under way, so a leaving gateway waits for it (±1). */
  readonly creatingFor: (gatewayId: string, delta: number) => void
  /** Starts the actor of a stored row. */
  readonly restoreRow: (gatewayId: string, row: StoredSnapshot) => Effect.Effect<boolean>
  readonly runFork: (effect: Effect.Effect<void, never, SqlClient.SqlClient | WriterServices>) => unknown
}

/** Why an actor is reloaded, and what runs before its row is read. */
export interface ReloadCause {
  readonly reason: "owner-unavailable" | "restarting"
  /** Runs before the row is read (a failed actor's pending write settles and its writer closes). */
  readonly settle?: Effect.Effect<void, never, WriterServices>
}

/**
 * Reloads an agent's actor from its stored row: `entry`'s actor stops and leaves `entries` (if
 * still there), and if its gateway is hosted here (or being restored here) the agent's actor
 * starts again from the stored snapshot once `settle` ran; a failed read is retried
 * (`reloadRead`) while the gateway stays. Until then the agent is `reloading` with `reason`.
 * Two causes: a write refused as stale (another runner stored this agent's version or a newer
 * one, so the actor here is behind: docs/architecture.md §11, docs/operations.md §7.3), and a
 * failed actor's restart (the supervisor's, docs/architecture.md §6.8).
 */
export const makeActorReloader = (options: ActorReloaderOptions) => {
  const { entries, hosting, reloading, creatingFor, restoreRow, runFork } = options
  return (agentId: string, entry: AgentEntry, cause: ReloadCause): void => {
    stopAgentActor(entry.actor)
    if (entries.get(agentId) === entry) entries.delete(agentId)
    const { gatewayId } = entry
    if (!hosting.has(gatewayId)) {
      if (cause.settle !== undefined) runFork(cause.settle)
      return
    }
    reloading.set(agentId, cause.reason)
    creatingFor(gatewayId, 1)
    const read = liveAgentRow(agentId).pipe(
      Effect.tapError((error) => Effect.logWarning(`agent ${agentId}: reading its row to reload its actor failed; retrying`, error)),
      Effect.retry({ schedule: reloadRead, while: () => hosting.has(gatewayId) })
    )
    runFork(
      (cause.settle ?? Effect.void).pipe(
        Effect.zipRight(read),
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
