import type { AgentProjection } from "../agents/agentProjection.ts"
import type { AgentRow, SavedStamps } from "../store/AgentRepo.ts"

/** An agent's read model as a batch saved it: its write's projection and snapshot with the row's stamps (what `AgentRepo.readModel` would read but the machine version). */
export type SavedAgent = Omit<AgentRow, "machineVersion"> & { readonly snapshot: unknown }

/** A follow of one agent's saves (`GroupCommitShape.follow`). */
export interface SavedFollow {
  /** The newest save of the agent committed since the follow began, if any. */
  readonly saved: () => SavedAgent | undefined
  /** Ends the follow (once); its saves are no longer kept. */
  readonly release: () => void
}

/** What of a committed write the read model is made from. */
interface SavedWrite {
  readonly agentId: string
  readonly version: number
  readonly projection: AgentProjection
  readonly snapshot: unknown
}

/**
 * The agents followed (docs/architecture.md §6.5) and each one's newest save since: `record` is
 * called for every committed write of a batch (a no-op for an agent nobody follows), so only
 * followed agents' saves are kept, and an agent's entry goes with its last follow.
 */
export const savedFollows = () => {
  const followed = new Map<string, { count: number; saved: SavedAgent | undefined; seq: number }>()
  // Orders records: a follow sees only saves recorded after it began, not one an earlier follow of the agent kept.
  let seq = 0
  return {
    /** Whether anyone follows any agent (a batch skips `record` otherwise). */
    any: (): boolean => followed.size > 0,
    record: (write: SavedWrite, stamps: SavedStamps): void => {
      const entry = followed.get(write.agentId)
      if (entry === undefined) return
      entry.seq = ++seq
      entry.saved = {
        ...write.projection,
        id: write.agentId,
        gatewayId: stamps.gatewayId,
        version: String(write.version),
        createdAt: stamps.createdAt,
        updatedAt: stamps.updatedAt,
        snapshot: write.snapshot
      }
    },
    follow: (agentId: string): SavedFollow => {
      const entry = followed.get(agentId) ?? { count: 0, saved: undefined, seq: 0 }
      entry.count += 1
      followed.set(agentId, entry)
      const since = seq
      let released = false
      return {
        saved: () => (entry.seq > since ? entry.saved : undefined),
        release: () => {
          if (released) return
          released = true
          entry.count -= 1
          if (entry.count === 0 && followed.get(agentId) === entry) followed.delete(agentId)
        }
      }
    }
  }
}
