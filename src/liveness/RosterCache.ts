import { looksManaged } from "./gatewayRoster.ts"

/**
 * Which of our agents a gateway agent id is, for one gateway's liveness watcher
 * (docs/operations.md §8). The roster is checked on every reconciliation (its fingerprint, read
 * again only when that changed: `fingerprint`, `confirm`); a signal for a managed-looking
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
  private known: string | undefined
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

  /**
   * The store's fingerprint of the roster as last read (`gatewayRosterFingerprint`), undefined
   * when unknown (never read, or the agents changed during the read): a check that finds it
   * unchanged need not read the roster again.
   */
  get fingerprint(): string | undefined {
    return this.known
  }

  /** A fresh read (epoch ms `at`) with the fingerprint it matches, if known: ids it lacks may be looked up again. */
  replace(roster: Map<string, string>, at: number, fingerprint?: string): void {
    this.agents = roster
    this.known = fingerprint
    this.confirm(at)
  }

  /** The store's fingerprint was found unchanged at `at`: as good as a fresh read (the same map is kept). */
  confirm(at: number): void {
    this.loadedAt = at
    this.absent.clear()
  }

  agentIdOf(gatewayAgentId: string): string | undefined {
    return this.agents.get(gatewayAgentId)
  }

  /**
   * An agent of ours found without a read (e.g. a local actor created since the last one). The
   * roster no longer matches the fingerprint it was read with, so the next check reads it again.
   */
  add(gatewayAgentId: string, agentId: string): void {
    this.agents.set(gatewayAgentId, agentId)
    this.known = undefined
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
