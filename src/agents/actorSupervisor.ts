import { AgentActorFailed } from "./AgentSystemErrors.ts"
import type { AgentEntry } from "./startAgentActor.ts"
import { agentActorFailures, agentActorsFailed } from "../observability/metrics.ts"

/** Restarts of one agent's actor a minute (RESTART_WINDOW_MS) before it stays stopped (docs/architecture.md §6.8). */
export const MAX_ACTOR_RESTARTS = 3
/** The window MAX_ACTOR_RESTARTS counts over, ms. */
export const RESTART_WINDOW_MS = 60_000

export interface ActorSupervisorOptions {
  readonly entries: Map<string, AgentEntry>
  /**
   * Restarts a failed agent's actor from its stored snapshot (`makeActorReloader`, with the failed
   * actor's pending write settled first). The entry has already left `entries`.
   */
  readonly restart: (agentId: string, entry: AgentEntry) => void
  /** Ends a failed actor that is not restarted: its pending write settles, its writer closes. */
  readonly retire: (agentId: string, entry: AgentEntry) => void
  /** Epoch ms; `Date.now` when absent. */
  readonly now?: () => number
}

/**
 * The supervision of a runner's agent actors (docs/architecture.md §6.8): an actor that fails (a
 * transition threw) leaves `entries` at once, so nothing waits on it, and is restarted from its
 * last durable snapshot, at most MAX_ACTOR_RESTARTS times in RESTART_WINDOW_MS; past that it
 * stays stopped and `failure(agentId)` is the `AgentActorFailed` its callers get at once, until
 * its gateway leaves this runner (`forgetGateway`) and is hosted again.
 */
export const makeActorSupervisor = (options: ActorSupervisorOptions) => {
  const { entries } = options
  const now = options.now ?? Date.now
  /** Failure instants (epoch ms) within the window, per agent, with its gateway. */
  const recent = new Map<string, { readonly gatewayId: string; times: Array<number> }>()
  const failed = new Map<string, { readonly gatewayId: string; readonly error: AgentActorFailed }>()

  const onFailed = (agentId: string, entry: AgentEntry, error: unknown): void => {
    // A failure of an actor already replaced (a reload, a restart) is not this agent's now.
    if (entries.get(agentId) !== entry) return
    entries.delete(agentId)
    const at = now()
    const times = (recent.get(agentId)?.times ?? []).filter((time) => at - time < RESTART_WINDOW_MS)
    times.push(at)
    if (times.length <= MAX_ACTOR_RESTARTS) {
      recent.set(agentId, { gatewayId: entry.gatewayId, times })
      agentActorFailures.inc({ outcome: "restarted" })
      options.restart(agentId, entry)
      return
    }
    recent.delete(agentId)
    const lastError = error instanceof Error ? error.message : String(error)
    failed.set(agentId, { gatewayId: entry.gatewayId, error: new AgentActorFailed({ agentId, failures: times.length, lastError }) })
    agentActorFailures.inc({ outcome: "stopped" })
    agentActorsFailed.set(failed.size)
    options.retire(agentId, entry)
  }

  const forget = (keep: (agentId: string, gatewayId: string) => boolean) => {
    for (const [agentId, { gatewayId }] of recent) if (!keep(agentId, gatewayId)) recent.delete(agentId)
    for (const [agentId, { gatewayId }] of failed) if (!keep(agentId, gatewayId)) failed.delete(agentId)
    agentActorsFailed.set(failed.size)
  }

  return {
    onFailed,
    /** The error a stopped agent's callers get, if its actor failed past its restarts. */
    failure: (agentId: string): AgentActorFailed | undefined => failed.get(agentId)?.error,
    /** The gateway left this runner: its agents' failures and counts go with it. */
    forgetGateway: (gatewayId: string): void => forget((_, of) => of !== gatewayId)
  }
}

/** The supervision of a runner's agent actors (`makeActorSupervisor`). */
export type ActorSupervisor = ReturnType<typeof makeActorSupervisor>
