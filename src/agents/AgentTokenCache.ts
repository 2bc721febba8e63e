import { Context } from "effect"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"

/** Token hashes remembered at most; past this the cache starts afresh (a fleet's worth). */
const MAX_ENTRIES = 200_000

/** What the cache holds: token hash → the agent id the database last named for it. */
export interface AgentTokenCacheShape {
  /**
   * The agent `tokenHash` names, if the database named it before AND the agent's live actor
   * (`snapshot`, this runner's) still holds that token and is not deleted; else undefined, and
   * the caller asks the database. A rotated, revoked or deleted token therefore never matches.
   */
  readonly verified: (tokenHash: string, snapshot: (agentId: string) => AgentSnapshot | undefined) => string | undefined
  /** Records the database's answer for `tokenHash`. */
  readonly remember: (tokenHash: string, agentId: string) => void
}

/** A bounded token-hash → agent id map, checked against the live actor on every use. */
export const makeAgentTokenCache = (maxEntries = MAX_ENTRIES): AgentTokenCacheShape => {
  const ids = new Map<string, string>()
  return {
    verified: (tokenHash, snapshot) => {
      const agentId = ids.get(tokenHash)
      if (agentId === undefined) return undefined
      const current = snapshot(agentId)
      return current !== undefined && current.status === "active" && current.context.tokenHash === tokenHash ? agentId : undefined
    },
    remember: (tokenHash, agentId) => {
      if (ids.size >= maxEntries) ids.clear()
      ids.set(tokenHash, agentId)
    }
  }
}

/**
 * Saves the per-request token lookup (docs/operations.md §6.10): an agent's token is checked
 * against its live actor's snapshot when the actor runs on this runner, and against the
 * database otherwise. The actor is the source of the stored `token_hash`, so the answer is the
 * database's (a token staged but not yet in the snapshot still goes to the database).
 */
export class AgentTokenCache extends Context.Reference<AgentTokenCache>()("switchyard/AgentTokenCache", {
  defaultValue: () => makeAgentTokenCache()
}) {}
