import { Clock, Effect } from "effect"
import { livenessRosterReads } from "../observability/metrics.ts"
import { gatewayRosterIfChanged } from "./gatewayRoster.ts"
import type { WatcherContext } from "./watcherContext.ts"

/**
 * The watcher's roster of our agents on its gateway (docs/operations.md §8): `refresh` checks
 * the store's fingerprint and reads the roster again only when it changed (counted in
 * `switchyard_liveness_roster_reads_total` by cause); `agentIdFor` maps a signal's gateway agent
 * id to our agent. Neither fails: a failed read is logged and the last roster kept.
 */
export const makeWatcherRoster = (context: WatcherContext) => {
  const { gatewayId, roster, system } = context

  const refresh = (cause: "reconcile" | "signal") =>
    Effect.gen(function* () {
      const read = yield* gatewayRosterIfChanged(gatewayId, roster.fingerprint)
      const at = yield* Clock.currentTimeMillis
      if (read === undefined) return roster.confirm(at)
      livenessRosterReads.inc({ ...context.labels, cause })
      roster.replace(read.roster, at, read.fingerprint)
    }).pipe(Effect.catchAll((error) => Effect.logWarning(`liveness ${gatewayId}: reading its agents failed: ${error.message}`)))

  /**
   * Our agent for a signal's gateway agent id. One not in the roster may be a worker created
   * since it was read (its wake's run comes within a second): its actor, local beside the
   * gateway's watcher, says so without a read (`mc-<agent id>`, docs/architecture.md §5.1).
   * Otherwise the roster is checked again, boundedly (RosterCache): a flood of signals from
   * orphans costs at most one check per ROSTER_RELOAD_MS.
   */
  const agentIdFor = (gatewayAgentId: string, now: number) =>
    Effect.gen(function* () {
      const known = roster.agentIdOf(gatewayAgentId)
      if (known !== undefined) return known
      const local = gatewayAgentId.startsWith("mc-") ? system.snapshot(gatewayAgentId.slice(3))?.context : undefined
      if (local !== undefined && local.gatewayId === gatewayId && local.gatewayAgentId === gatewayAgentId) {
        roster.add(gatewayAgentId, local.agentId)
        return local.agentId
      }
      if (!roster.shouldReload(gatewayAgentId, now)) return undefined
      yield* refresh("signal")
      const found = roster.agentIdOf(gatewayAgentId)
      if (found === undefined) roster.markAbsent(gatewayAgentId)
      return found
    })

  return { refresh, agentIdFor }
}
