import { looksManaged } from "./gatewayRoster.ts"

/**
 * Which of our agents a gateway agent id is, for one gateway's liveness watcher
 * (docs/operations.md §8). The roster is read on every reconciliation; a signal for a managed-looking
 * id not in it may read it again, but boundedly: at most one such read per `reloadEveryMs`, and
 * an id the last read lacked (an orphan) does not cause another until the next read for another
 * reason (a reconciliation, or a signal for another unknown id). Reads are not serialised: a
 * signal's read (event-stream fiber) and a reconciliation's (its own fiber) can be in flight at
 * once, and `replace` installs whichever finishes last, even if it started first; an agent
 * inserted between their starts (a new lead) can then be missing until the next read.
 */
export class RosterCache {
  private agents = new Map<string, string>()
  private loadedAt = Number.NEGATIVE_INFINITY
  private readonly absent = new Set<string>()
  private readonly reloadEveryMs: number

  /** `reloadEveryMs`: fewest ms between two reads caused by signals. */
  constructor(reloadEveryMs: number) {
    this.reloadEveryMs = reloadEveryMs
  }

  /** Gateway agent id → agent id, as last read. */
  get roster(): ReadonlyMap<string, string> {
    return this.agents
  }

  /** A fresh read (epoch ms `at`): ids it lacks may be looked up again. */
  replace(roster: Map<string, string>, at: number): void {
    this.agents = roster
    this.loadedAt = at
    this.absent.clear()
  }

  agentIdOf(gatewayAgentId: string): string | undefined {
    return this.agents.get(gatewayAgentId)
  }

  /** An agent of ours found without a read (e.g. a local actor created since the last one). */
  add(gatewayAgentId: string, agentId: string): void {
    this.agents.set(gatewayAgentId, agentId)
    this.absent.delete(gatewayAgentId)
  }

  /** Whether a signal at `now` for an id not in the roster warrants reading it again. */
  shouldReload(gatewayAgentId: string, now: number): boolean {
    return looksManaged(gatewayAgentId) && !this.absent.has(gatewayAgentId) && now - this.loadedAt >= this.reloadEveryMs
  }

  /** After a read for `gatewayAgentId` that still lacks it: no read for it again until the next one. */
  markAbsent(gatewayAgentId: string): void {
    this.absent.add(gatewayAgentId)
  }
}
