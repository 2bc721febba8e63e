import type { PlannedAgent, SyncCandidate, SyncJobOptions } from "../store/SyncJobRepo.ts"

/** Reasons an agent is skipped; the texts appear in job results. */
export const SKIP_REASONS = {
  boardPaused: "board paused",
  boardNotFound: "board not found for agent",
  agentDeleted: "agent deleted"
} as const

/** The gateway-main agent as `ensureMainAgent` answered: a `created` one is provisioning already. */
export interface EnsuredMain {
  readonly agentId: string
  readonly created: boolean
}

/**
 * Which agents a sync covers, in order (docs/operations.md §6.8): the gateway's board agents oldest
 * first, only `boardId`'s and only leads when asked; an agent on a paused board, or whose board is
 * gone, is recorded as skipped. The main agent comes last when `includeMain`. A main agent this
 * sync just created is provisioning at generation 1, which writes every file: the sync awaits that
 * apply instead of sending another.
 */
export const planSync = (candidates: ReadonlyArray<SyncCandidate>, options: SyncJobOptions, main: EnsuredMain | null): Array<PlannedAgent> => {
  const board = candidates.filter(
    (agent) =>
      agent.role !== "main" &&
      (options.boardId === null || agent.boardId === options.boardId) &&
      (!options.leadOnly || agent.role === "lead")
  )
  const planned: Array<PlannedAgent> = board.map((agent, position) => {
    const skip = !agent.boardFound ? SKIP_REASONS.boardNotFound : agent.boardPaused ? SKIP_REASONS.boardPaused : null
    return {
      agentId: agent.id,
      position,
      agentName: agent.name,
      boardId: agent.boardId,
      role: agent.role,
      status: skip === null ? "pending" : "skipped",
      message: skip,
      sentGeneration: null
    }
  })
  const mainAgent = main === null || !options.includeMain ? undefined : candidates.find((agent) => agent.id === main.agentId)
  if (main !== null && mainAgent !== undefined) {
    planned.push({
      agentId: mainAgent.id,
      position: planned.length,
      agentName: mainAgent.name,
      boardId: null,
      role: "main",
      status: "pending",
      message: null,
      sentGeneration: main.created ? 1 : null
    })
  }
  return planned
}
