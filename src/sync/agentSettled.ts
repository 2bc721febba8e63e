import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { StepError, TokenSource } from "../../machines/agent/agentTypes.ts"
import { statePathOf } from "../agents/agentProjection.ts"

/** Substates of `provisioning`/`updating` in which no gateway work is under way. */
const RESTING = new Set(["failed", "awaiting"])

const parts = (snapshot: AgentSnapshot) => statePathOf(snapshot.value).split(".")

/** Deleted, or being deleted: a sync leaves it alone. */
export const isGone = (snapshot: AgentSnapshot): boolean => {
  const [top] = parts(snapshot)
  return snapshot.status === "done" || top === "deleting" || top === "deleted"
}

/**
 * Whether the actor is doing gateway work (applying, waking, or waiting to retry either). An
 * update sent now would interrupt it: a first provisioning would lose its wake.
 */
export const isWorking = (snapshot: AgentSnapshot): boolean => {
  const [top, sub] = parts(snapshot)
  return (top === "provisioning" || top === "updating") && !RESTING.has(sub ?? "")
}

/** Ready to take the sync's `agent.update`: not working, or gone (then nothing is sent). */
export const readyForUpdate = (snapshot: AgentSnapshot): boolean => isGone(snapshot) || !isWorking(snapshot)

/**
 * Settled at `generation`: an apply of that generation (or a later one) has ended, in success
 * or in `failed`, or the agent is gone. Generations only grow, one per apply cycle.
 */
export const settledAt =
  (generation: number) =>
  (snapshot: AgentSnapshot): boolean =>
    isGone(snapshot) || (snapshot.context.generation >= generation && !isWorking(snapshot))

/**
 * At or past the state that settled `generation`: settled there, or already working on a later
 * generation. Once such a snapshot is durable, so is the settled one before it (versions only
 * grow), so a result waits on this, not on `settledAt`, which a newer apply makes false again.
 */
export const pastSettled =
  (generation: number) =>
  (snapshot: AgentSnapshot): boolean =>
    settledAt(generation)(snapshot) || snapshot.context.generation > generation

export type SettledOutcome =
  | { readonly kind: "applied"; readonly tokenSource: TokenSource | null }
  | { readonly kind: "failed"; readonly error: StepError }
  | { readonly kind: "gone" }

/** What a settled snapshot says of the apply: a `failed` substate carries the machine's last error. */
export const outcomeOf = (snapshot: AgentSnapshot): SettledOutcome => {
  if (isGone(snapshot)) return { kind: "gone" }
  const [, sub] = parts(snapshot)
  const { lastError, tokenSource } = snapshot.context
  if (sub === "failed") {
    return { kind: "failed", error: lastError ?? { tag: "Unknown", message: "the apply failed", transient: false, step: "apply", at: 0 } }
  }
  return { kind: "applied", tokenSource }
}
