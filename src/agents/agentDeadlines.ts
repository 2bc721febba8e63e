import type { AgentEvent } from "../../machines/agent/agentTypes.ts"
import { pendingDeadline, type DeadlineView } from "../../machines/agent/pendingDeadline.ts"
import { DeadlineQueue, type DeadlineClock, type DeadlineTicket } from "./DeadlineQueue.ts"

/** An actor and the deadline armed for it (an `AgentEntry` is one). */
export interface DeadlineHolder {
  readonly actor: { readonly getSnapshot: () => DeadlineView; readonly send: (event: AgentEvent) => void }
  deadline: DeadlineTicket<DeadlineHolder> | undefined
}

/**
 * The shared deadline queue of a set of agent actors: a due deadline sends `deadline.reached`
 * (stamped with the queue's clock) to its actor if it still runs (docs/architecture.md §3.3).
 */
export const agentDeadlines = (clock?: DeadlineClock): DeadlineQueue<DeadlineHolder> => {
  const queue: DeadlineQueue<DeadlineHolder> = new DeadlineQueue<DeadlineHolder>(clock, (holder) => {
    holder.deadline = undefined
    if (holder.actor.getSnapshot().status === "active") holder.actor.send({ type: "deadline.reached", at: queue.now() })
  })
  return queue
}

/**
 * Keeps the holder's armed deadline equal to what its actor's snapshot waits for
 * (`pendingDeadline`): kept while the instant stays, re-armed when it moves or after it fired
 * (a state re-entered with the same instant waits again), cancelled when the state waits for
 * none or the actor stopped. Called after every snapshot, the restored one included, so a
 * restored actor's deadline fires on time, or at once if it passed while the service was down.
 */
export const armDeadline = (deadlines: DeadlineQueue<DeadlineHolder>, holder: DeadlineHolder): void => {
  const at = pendingDeadline(holder.actor.getSnapshot())
  const armed = holder.deadline
  if (armed !== undefined && armed.at === at && DeadlineQueue.pending(armed)) return
  if (armed !== undefined) deadlines.cancel(armed)
  holder.deadline = at === undefined ? undefined : deadlines.schedule(at, holder)
}
