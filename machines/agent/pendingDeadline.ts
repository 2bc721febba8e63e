import type { AgentContext } from "./agentTypes.ts"

/** The tag of every state that waits for `context.deadline` (docs/architecture.md §3.3). */
export const TIMED = "timed" as const

/** What `pendingDeadline` reads of a snapshot (an XState machine snapshot has it). */
export interface DeadlineView {
  readonly status: string
  readonly context: Pick<AgentContext, "deadline">
  readonly hasTag: (tag: typeof TIMED | "busy") => boolean
}

/**
 * The instant (epoch ms) at which the host must send `deadline.reached` (stamped with its
 * clock) to an actor in this snapshot, or undefined when it waits for none. A state tagged
 * `timed` waits for `context.deadline`: online and offline without one wait for nothing (no
 * heartbeat limit, gateway there); a busy state without one is due at once. Pure: the host
 * arms it after every snapshot and on restore, so a restored actor's deadline fires on time,
 * or at once if it passed while the service was down (docs/architecture.md §3.3).
 */
export const pendingDeadline = (snapshot: DeadlineView): number | undefined => {
  if (snapshot.status !== "active" || !snapshot.hasTag(TIMED)) return undefined
  const { deadline } = snapshot.context
  if (deadline !== null) return deadline
  return snapshot.hasTag("busy") ? 0 : undefined
}
