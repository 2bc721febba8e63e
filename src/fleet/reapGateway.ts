import { Clock, Effect } from "effect"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { retireOnOwner } from "../cluster/gatewayOnOwner.ts"
import { AgentRepo, type AgentKeysetPage, type AgentRow, type LiveCursor } from "../store/AgentRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"

const PAGE = 500

/** Every live agent of a gateway (deleted ones are gone from the list), by keyset pages: O(agents) in all. */
const agentsOf = (gatewayId: string) =>
  Effect.gen(function* () {
    const repo = yield* AgentRepo
    const rows: Array<AgentRow> = []
    let after: LiveCursor | undefined = undefined
    for (;;) {
      const page: AgentKeysetPage = yield* repo.page({ gatewayId, limit: PAGE, after })
      rows.push(...page.items)
      if (page.next === null) return rows
      after = page.next
    }
  })

export interface ReapOptions {
  /**
   * Re-send `agent.delete` to agents whose gateway cleanup already failed (an operator asking
   * again); with `force` those are then removed locally without cleaning up the gateway.
   */
  readonly retryFailed: boolean
  readonly force: boolean
}

/**
 * One step of deleting a gateway (marked `deleting_at`): every board agent gets `agent.delete`,
 * so its own actor removes it from the gateway with retries; the gateway-main agent goes last,
 * because board agents' deletes ask it to clean up their workspaces; once no agent is left the
 * row goes, and then the gateway's owner, whichever runner that is, is told to let it go
 * (`retireOnOwner`, sent without waiting: its programs end, its actors stop, its socket closes,
 * docs/architecture.md §11). Mission Control
 * deleted only its rows and left the agents on the gateway (docs/operations.md §6.7). Agents already deleting are left to their actors unless
 * `retryFailed`. Safe to repeat: the service sweeps deleting gateways until they are gone.
 * Output: the live agents still on the gateway (0 once the row is deleted).
 * Errors: SqlError, AgentsRestoring / AgentNotFound / AgentPersistTimeout from sending.
 */
export const reapGateway = Effect.fn("Gateways.reap")(function* (gatewayId: string, options: ReapOptions) {
  const system = yield* AgentSystem
  const agents = yield* agentsOf(gatewayId)
  const boardAgents = agents.filter((agent) => agent.role !== "main")
  const wave = boardAgents.length > 0 ? boardAgents : agents
  const at = yield* Clock.currentTimeMillis
  for (const agent of wave) {
    const failed = agent.statePath === "deleting.failed"
    if (agent.status !== "deleting" || (failed && options.retryFailed)) {
      yield* system.send(agent.id, { type: "agent.delete", at, force: failed && options.force })
    }
  }
  if (agents.length > 0) return agents.length
  yield* Effect.flatMap(GatewayRepo, (repo) => repo.remove(gatewayId))
  // Sent without waiting (a DELETE must not wait for a down owner); the owner's own read of the
  // stored gateways makes good a retirement lost or not confirmed (docs/architecture.md §11).
  yield* retireOnOwner(gatewayId).pipe(
    Effect.catchAll((error) =>
      Effect.logWarning(`gateway ${gatewayId} deleted; its owner's retirement of it was not confirmed (${error.message}): its owner's next read of the stored gateways lets it go`)
    ),
    // Bounded by the owner timeout (10 s): the fiber outlives no caller by more.
    Effect.forkDaemon
  )
  yield* Effect.logInfo(`gateway ${gatewayId} deleted: its agents were removed from it`)
  return 0
})
