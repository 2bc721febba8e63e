import { type AnyActorRef, type AnyEventObject, createActor, type EventObject, fromTransition } from "xstate"
import type { agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentInput } from "../../machines/agent/agentTypes.ts"

/** An agent actor, created in a runner's shared system. */
export type AgentActor = ReturnType<typeof createActor<typeof agentMachine>>

/** What a runner's agent actor system reports: each snapshot of any of its actors, and each agent actor's failure. */
export interface AgentActorSystemHandlers {
  /** Called after every snapshot of an actor of the system (an agent's invoked programs included), with the event that produced it. */
  readonly onSnapshot: (actorRef: AnyActorRef, event: AnyEventObject) => void
  /** An agent actor failed (its id is the agent's): an error thrown by the machine, or a snapshot XState could not restore. */
  readonly onError: (agentId: string, error: unknown) => void
}

/**
 * One XState actor system for a runner's agent actors (docs/architecture.md §6.6). XState gives
 * each actor created without a parent a system of its own (maps, a scheduler, about twenty
 * closures: with the observer each agent had on it, about 2.2 KB an agent, §6.6); an agent actor
 * made by `create` is a child of one started root actor that holds nothing, and so shares its
 * system. What sharing changes, and how it is met:
 *
 * - inspection is system-wide: one observer dispatches every snapshot (`onSnapshot`), never one
 *   observer per agent, which every agent's events would reach;
 * - XState relays an agent actor's done and error events to its parent: the root ignores done
 *   events and reports errors (`onError`), since XState reports nothing for a child that fails
 *   with no error observer;
 * - a child cannot `stop()` itself: `stopAgentActor`;
 * - XState reschedules stored delayed events for root actors only, and its scheduler scans every
 *   delayed event of the system when an actor stops: agent machines schedule none (deadlines go
 *   to `DeadlineQueue`, §6.7).
 *
 * An agent actor's id is its agent id (session ids stay XState's, unique per process); a stopped
 * actor leaves the system's registry. The root holds no timer, so the system goes with its
 * last reference.
 */
export const agentActorSystem = (handlers: AgentActorSystemHandlers) => {
  const root = createActor(
    fromTransition((nothing: undefined, event: EventObject) => {
      if (event.type.startsWith("xstate.error.actor.")) {
        const failed = event as EventObject & { readonly actorId: string; readonly error: unknown }
        // A handler that throws must not fail the root: every later failure would go unreported.
        try {
          handlers.onError(failed.actorId, failed.error)
        } catch (cause) {
          console.error(`agent ${failed.actorId}: reporting its actor's failure failed`, cause)
        }
      }
      return nothing
    }, undefined)
  ).start()
  root.system.inspect((event) => {
    // Only actors raise inspection events: `ActorRefLike` is wider than what arrives.
    if (event.type === "@xstate.snapshot" && event.actorRef !== root) handlers.onSnapshot(event.actorRef as AnyActorRef, event.event)
  })
  return {
    /** Creates (does not start) the actor of `agentId` in this system: a new agent from `input`, or a restored one from `snapshot`. */
    create: (logic: typeof agentMachine, agentId: string, options: { readonly input: AgentInput; readonly snapshot?: unknown }): AgentActor =>
      createActor(logic, { ...(options as { input: AgentInput }), id: agentId, parent: root }),
    /** Whether `actor` belongs to this system. */
    owns: (actor: AnyActorRef): boolean => actor.system === root.system
  }
}

/**
 * Stops an agent actor made by `agentActorSystem` (docs/architecture.md §6.6). XState's `stop()`
 * refuses a child actor; its internal `_stop()` is what `stop()` runs for a root: the machine
 * stops its invoked programs, and the actor leaves the system's registry. Stopping a stopped
 * actor does nothing. An actor that failed (a transition threw) was stopped by XState without
 * stopping its invoked programs, which would stay running in the shared system: they are
 * stopped here (its error snapshot still lists them).
 */
export const stopAgentActor = (actor: AnyActorRef): void => {
  const snapshot = actor.getSnapshot() as { readonly status?: string; readonly children?: Record<string, AnyActorRef | undefined> }
  if (snapshot.status === "error") {
    for (const child of Object.values(snapshot.children ?? {})) {
      if (child !== undefined) (child as unknown as { readonly _stop: () => void })._stop()
    }
  }
  ;(actor as unknown as { readonly _stop: () => void })._stop()
}
