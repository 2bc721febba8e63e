import type { AgentContext, AgentEvent } from "./agentTypes.ts"

/**
 * The check-in window after a wake (docs/operations.md §8). The agent has `checkinTimeoutMs` to
 * curl back; a run of it starting on the gateway gives it a full window from the run's start, but
 * never past `CHECKIN_EXTENSION_FACTOR` windows from the wake: an agent whose runs keep starting
 * and failing still reaches "did not check in".
 */
export const CHECKIN_EXTENSION_FACTOR = 2

interface Args {
  readonly context: AgentContext
  readonly event: AgentEvent
}

/** The deadline a run starting at `at` asks for: a full window from it, within the wake's limit. */
const extendedDeadline = (context: AgentContext, at: number): number => {
  const current = context.deadline ?? at
  // A snapshot from before the limit existed: its deadline is the limit (no extension).
  const limit = context.checkinLimit ?? current
  return Math.min(limit, Math.max(current, at + context.policy.checkinTimeoutMs))
}

/** Whether a run starting now moves the check-in deadline later. */
export const extendsCheckin = ({ context, event }: Args): boolean => extendedDeadline(context, event.at) > (context.deadline ?? event.at)

export const checkinUpdates = {
  /** A wake is accepted: the window starts now, and runs may push it up to the limit. */
  acceptWake: ({ context, event }: Args): Partial<AgentContext> => ({
    attempts: 0,
    wakeAttempts: context.wakeAttempts + 1,
    deadline: event.at + context.policy.checkinTimeoutMs,
    checkinLimit: event.at + CHECKIN_EXTENSION_FACTOR * context.policy.checkinTimeoutMs
  }),
  /** A wake's run under way: the check-in it should end in gets a full window from now, within the limit. */
  extendCheckin: ({ context, event }: Args): Partial<AgentContext> => ({ deadline: extendedDeadline(context, event.at) })
}
