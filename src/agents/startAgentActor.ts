import { Effect } from "effect"
import type { AnyEventObject } from "xstate"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { AgentTokenCacheShape } from "./AgentTokenCache.ts"
import type { DeadlineQueue } from "./DeadlineQueue.ts"
import { armDeadline, type DeadlineHolder } from "./agentDeadlines.ts"
import { lifecycleActivity, lifecycleTransition } from "./lifecycleActivity.ts"
import { projectSnapshot } from "./agentProjection.ts"
import { sameSnapshot } from "./restoreAgent.ts"
import { SnapshotWriter, type WriterServices } from "../snapshots/SnapshotWriter.ts"
import { slimStartedActor } from "./slimStartedActor.ts"
import { shareSnapshotParts } from "./shareSnapshotParts.ts"
import { type AgentActor, agentActorSystem, stopAgentActor } from "./agentActorSystem.ts"

/**
 * One running agent actor, the writer that persists its snapshots, the gateway it belongs to,
 * and the deadline armed for it in the shared queue (docs/architecture.md §3.3).
 */
export interface AgentEntry extends DeadlineHolder {
  readonly actor: AgentActor
  readonly writer: SnapshotWriter
  readonly gatewayId: string
  /**
   * The snapshot the last inspection saw (the actor holds it too, so keeping it costs nothing);
   * its projection is derived when the next one needs it. A new agent (version 0) has none.
   */
  last: AgentSnapshot | undefined
  /** The stored snapshot a restored actor started from, until its first snapshot is seen. */
  restoredFrom: unknown
}

export interface ActorStarterOptions {
  readonly entries: Map<string, AgentEntry>
  /** Runs one drain of a writer (a span in the trace of the transition that offered it). */
  readonly persist: (effect: Effect.Effect<void, never, WriterServices>, agentId: string) => void
  readonly runFork: <A, E>(effect: Effect.Effect<A, E, never>) => unknown
  readonly transitionsKeepPerAgent: number
  /** Every agent's deadline behind one timer (`agentDeadlines`). */
  readonly deadlines: DeadlineQueue<DeadlineHolder>
  /** Called when a write of the agent is refused as stale (another runner stored a newer version). */
  readonly onStale?: ((agentId: string) => void) | undefined
  /** Learns each restored agent's token hash, so its first heartbeat after a restore needs no lookup (docs/operations.md §6.10). */
  readonly tokens?: Pick<AgentTokenCacheShape, "remember"> | undefined
  /** Called when an agent actor failed (status "error"): the supervisor (`makeActorSupervisor`); else the failure is logged. */
  readonly onFailed?: ((agentId: string, error: unknown) => void) | undefined
}

/**
 * The agent actors of `entries`, in one shared actor system (`agentActorSystem`,
 * docs/architecture.md §6.6): `create(logic, agentId, { input, snapshot? })` makes an actor,
 * `start(agentId, gatewayId, actor, version, stored?)` starts one made by `create`, where
 * `stored` is the snapshot it was restored from (an unchanged one is not written again). Every snapshot is offered to the agent's
 * writer with its transition and activity; a finished (deleted) actor leaves `entries` once its
 * final snapshot is saved; a failed actor goes to `onFailed` (else it is logged). The system holds no timer: it goes with
 * the starter.
 */
export const makeActorStarter = (options: ActorStarterOptions) => {
  const { entries, persist, runFork } = options
  // One function for every agent's snapshots: the entry holds what it compares with.
  const offerSnapshot = (entry: AgentEntry, event: AnyEventObject) => {
    const { actor, writer } = entry
    const snapshot = actor.getSnapshot()
    armDeadline(options.deadlines, entry)
    // What `subscribe` would see: not the stopped snapshot of a shutdown, nor an error.
    if (snapshot.status !== "active" && snapshot.status !== "done") return
    shareSnapshotParts(snapshot)
    const persistedSnapshot = actor.getPersistedSnapshot()
    // A restored actor re-emits its stored snapshot on start; unchanged, it is already saved,
    // and nothing else (projection, transition, activity) is derived from it.
    const unchanged = event.type === "xstate.init" && entry.restoredFrom !== undefined && sameSnapshot(persistedSnapshot, entry.restoredFrom)
    entry.restoredFrom = undefined
    const last = entry.last
    let version = writer.version
    if (!unchanged) {
      const projection = projectSnapshot(snapshot)
      const previous = last === undefined ? undefined : projectSnapshot(last)
      // No transition: an event nothing accepted leaves the same snapshot object, and a restored
      // actor re-emits its stored snapshot on start.
      const moved = snapshot !== last && !(event.type === "xstate.init" && previous !== undefined)
      const transition = moved ? lifecycleTransition(snapshot.context, previous, projection, event, Date.now()) : undefined
      version = writer.offer(persistedSnapshot, projection, lifecycleActivity(snapshot.context, previous, projection), transition)
    }
    entry.last = snapshot
    // A finished actor (deleted) leaves the map only once its final snapshot is saved, so a
    // reader that no longer finds it can trust the database.
    const agentId = actor.id
    if (snapshot.status === "done") runFork(Effect.andThen(Effect.ignore(writer.awaitPersisted(version)), () => void (entries.get(agentId) === entry && entries.delete(agentId))))
  }
  // `@xstate.snapshot` carries each snapshot with the event that produced it (`subscribe`
  // gives the snapshot alone; the last event seen would be wrong when a child's event is
  // queued behind the one being processed). It fires synchronously in the same update,
  // right after subscribers, so `send` still finds the new version offered when it returns.
  const system = agentActorSystem({
    onSnapshot: (actorRef, event) => {
      const entry = entries.get(actorRef.id)
      if (entry !== undefined && entry.actor === actorRef) offerSnapshot(entry, event)
    },
    onError: (agentId, error) => {
      if (options.onFailed !== undefined) return options.onFailed(agentId, error)
      // XState stopped the failed actor but not its invoked programs: they end now.
      const entry = entries.get(agentId)
      if (entry !== undefined) stopAgentActor(entry.actor)
      runFork(Effect.logError(`agent ${agentId} actor failed`, error))
    }
  })
  const start = (agentId: string, gatewayId: string, actor: AgentActor, version: number, stored?: unknown): AgentEntry => {
    // A row restored while its create was still starting it must not get a second actor.
    const existing = entries.get(agentId)
    if (existing !== undefined) return existing
    // An actor of another system would never be inspected here: its snapshots would not be saved.
    if (!system.owns(actor) || actor.id !== agentId) throw new Error(`agent ${agentId}: its actor was not made by this starter's create`)
    const writer = new SnapshotWriter(agentId, version, version, persist, options.transitionsKeepPerAgent, options.onStale)
    // A new agent (version 0) has no last snapshot, and gets an `agent.created` row with its
    // first snapshot; a restored one starts from the snapshot it was restored from.
    const entry: AgentEntry = { actor, writer, gatewayId, deadline: undefined, last: version === 0 ? undefined : actor.getSnapshot(), restoredFrom: stored }
    entries.set(agentId, entry)
    actor.start()
    slimStartedActor(actor as unknown as Parameters<typeof slimStartedActor>[0])
    const started = actor.getSnapshot()
    // A snapshot XState could not restore is in status "error", with no context to read.
    const tokenHash = stored === undefined || started.status !== "active" ? null : started.context.tokenHash
    if (tokenHash !== null) options.tokens?.remember(tokenHash, agentId)
    return entry
  }
  return { create: system.create, start }
}

/** Creates and starts a runner's agent actors (`makeActorStarter`). */
export type ActorStarter = ReturnType<typeof makeActorStarter>
