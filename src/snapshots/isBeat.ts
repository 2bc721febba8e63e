import { livenessEventTypes } from "../../machines/agent/livenessTypes.ts"
import type { NewTransition } from "../store/TransitionRepo.ts"

/** Liveness events: the agent's own heartbeat and the gateway's signals (docs/operations.md §8). */
const livenessEvents: ReadonlySet<string> = new Set(["agent.heartbeat", ...livenessEventTypes])

/**
 * Whether a transition is a liveness event (a heartbeat or a gateway signal) that left the
 * agent's state as it was: liveness, not a transition (docs/architecture.md §8.1). It is saved as
 * the agent's newest beat, with its event type, not as a row.
 */
export const isBeat = (transition: Omit<NewTransition, "version">): boolean =>
  livenessEvents.has(transition.eventType) && transition.fromState !== null && transition.fromState === transition.toState
