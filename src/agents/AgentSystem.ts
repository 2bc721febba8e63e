import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Fiber, Layer, Ref, Runtime } from "effect"
import { createActor, waitFor as waitForActor } from "xstate"
import { AGENT_MACHINE_VERSION, agentMachine, type AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { AgentExternalEvent, AgentInput, AgentPolicy, AgentRole, AgentSpec } from "../../machines/agent/agentTypes.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentRepo, type LiveCursor } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { TaskRepo } from "../store/TaskRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { TransitionRepo } from "../store/TransitionRepo.ts"
import { AgentConfigBatcher } from "./AgentConfigBatcher.ts"
import { lifecycleActivity, lifecycleTransition } from "./lifecycleActivity.ts"
import { livenessPolicy } from "./livenessPolicy.ts"
import { projectSnapshot } from "./agentProjection.ts"
import { effectActor, type ProgramLanes } from "./effectActor.ts"
import { gatewayAgentIdFor, sessionKeyFor } from "./naming.ts"
import { applyAgent } from "./programs/applyAgent.ts"
import { removeAgent } from "./programs/removeAgent.ts"
import { wakeAgent } from "./programs/wakeAgent.ts"
import {
  AgentNotFound,
  BoardFull,
  AgentPersistTimeout,
  AgentsRestoring,
  AgentWaitTimeout,
  MachineVersionUnknown,
  SnapshotInvalid,
  type Readiness
} from "./AgentSystemErrors.ts"
import { policyChanged, restorableSnapshot, sameSnapshot } from "./restoreAgent.ts"
import { SnapshotWriter, type WriterServices } from "./SnapshotWriter.ts"
import { GroupCommit } from "./GroupCommit.ts"
import { DeadlineQueue, queuedDeadline } from "./DeadlineQueue.ts"
import { callerSpan, continueTrace } from "../observability/tracing.ts"

export { AgentNotFound, AgentPersistTimeout, BoardFull, AgentsRestoring, AgentWaitTimeout, MachineVersionUnknown, SnapshotInvalid, type Readiness }

/** How long a caller waits for its event's snapshot to reach the database before a 503. */
const PERSIST_TIMEOUT_MS = 15_000

/** Stored agents read per restore query. */
const RESTORE_PAGE = 1_000

export interface NewAgentRequest {
  readonly agentId: string
  readonly gatewayId: string
  readonly boardId: string | null
  readonly role: AgentRole
  readonly spec: AgentSpec
  /** Refuse (BoardFull) when the board already has this many live workers: a lead's creates (docs/operations.md §6.2). */
  readonly workerCap?: number | undefined
}

export interface AgentSystemShape {
  /**
   * Inserts the agent with its initial snapshot, then starts its actor (provisioning begins).
   * Errors: BoardFull (over `workerCap`; nothing inserted), SqlError, AgentPersistTimeout.
   */
  readonly create: (request: NewAgentRequest) => Effect.Effect<AgentSnapshot, BoardFull | SqlError | AgentPersistTimeout>
  /**
   * Sends an event and completes once the snapshot it produced is persisted. Fails with
   * AgentsRestoring while actors are still being restored, AgentPersistTimeout when the
   * database does not take the snapshot within 15 s (the event stands and is saved later).
   */
  readonly send: (agentId: string, event: AgentExternalEvent) => Effect.Effect<AgentSnapshot, AgentNotFound | AgentsRestoring | AgentPersistTimeout>
  /** Waits until `predicate` holds for the agent's snapshot (then until it is persisted), or `timeoutMs`. */
  readonly waitFor: (
    agentId: string,
    predicate: (snapshot: AgentSnapshot) => boolean,
    timeoutMs: number
  ) => Effect.Effect<AgentSnapshot, AgentNotFound | AgentsRestoring | AgentWaitTimeout | AgentPersistTimeout>
  /**
   * Restores every agent that is not deleted from its snapshot; in-flight work resumes. Each
   * row is restored on its own; if any cannot be, the rest still are, readiness says which
   * failed, and the first failure is returned.
   */
  readonly restoreAll: Effect.Effect<number, SqlError | MachineVersionUnknown | SnapshotInvalid>
  /** `ready` once `restoreAll` has finished; `failed` with the reason if it could not. */
  readonly readiness: Effect.Effect<Readiness>
  readonly snapshot: (agentId: string) => AgentSnapshot | undefined
  /** Succeeds when the agent's actor is running here (check it before writing anything for an event). */
  readonly requireActor: (agentId: string) => Effect.Effect<void, AgentNotFound | AgentsRestoring>
}

/** The agent actors of this process: one XState actor per agent, persisted after every transition. */
export class AgentSystem extends Context.Tag("switchyard/AgentSystem")<AgentSystem, AgentSystemShape>() {}

/**
 * Drops what an actor's options keep only for construction and start: the snapshot it was
 * restored from (a copy of the stored row's, with its children and history) and its input
 * (a restored actor's is its first context, which would outlive every later context). XState
 * reads both in `createActor` and `start`, and `devTools` and the rest stay.
 */
const forgetStartOptions = (actor: { readonly options: object }) => {
  // Overwritten in place: a copy or a `delete` would cost more than the two fields.
  const options = actor.options as { snapshot?: unknown; input?: unknown }
  if (options.snapshot !== undefined) options.snapshot = undefined
  if (options.input !== undefined) options.input = undefined
}

interface Entry {
  readonly actor: ReturnType<typeof createActor<typeof agentMachine>>
  readonly writer: SnapshotWriter
}

export const AgentSystemLive = Layer.scoped(
  AgentSystem,
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<
      AppConfig | GatewayClient | AgentConfigBatcher | GatewayRepo | BoardRepo | AgentRepo | TaskRepo | ActivityRepo | TransitionRepo | SqlClient.SqlClient | GroupCommit
    >()
    const config = yield* AppConfig
    const repo = yield* AgentRepo
    const readiness = yield* Ref.make<Readiness>({ state: "restoring" })
    const entries = new Map<string, Entry>()
    const runFork = Runtime.runFork(runtime)
    const policy = (): AgentPolicy => ({
      offlineAfterMs: config.offlineAfterMs,
      checkinTimeoutMs: config.checkinTimeoutMs,
      maxWakeAttempts: config.maxWakeAttempts,
      maxAttempts: config.maxAttempts,
      retryBaseMs: config.retryBaseMs,
      ...livenessPolicy(config)
    })
    const lanes: ProgramLanes = new Map()
    // Write-ahead (effectActor): a program waits until the agent's latest snapshot is saved.
    const awaitDurable = (agentId: string) =>
      Effect.suspend(() => {
        const entry = entries.get(agentId)
        return entry === undefined ? Effect.void : entry.writer.awaitPersisted(entry.writer.version)
      })
    // Every agent's retry, check-in and offline deadline behind one timer.
    const deadlines = new DeadlineQueue()
    const logic = agentMachine.provide({
      actors: {
        applyAgent: effectActor(runtime, lanes, awaitDurable, "apply", applyAgent),
        wakeAgent: effectActor(runtime, lanes, awaitDurable, "wake", wakeAgent),
        removeAgent: effectActor(runtime, lanes, awaitDurable, "remove", removeAgent),
        deadline: queuedDeadline(deadlines)
      }
    })

    // A write (one drain of a writer) is a span in the trace of the transition that offered it.
    // One function for every writer: a closure per agent would cost a fleet a closure each.
    const persist = (effect: Effect.Effect<void, never, WriterServices>, agentId: string) =>
      void runFork(effect.pipe(continueTrace(callerSpan(), { span: "Agents.persistSnapshot", attributes: { agent_id: agentId } })))

    /** Starts `actor`; `stored` is the snapshot it was restored from (an unchanged one is not written again). */
    const start = (agentId: string, actor: Entry["actor"], version: number, stored?: unknown) => {
      // A row restored while its create was still starting it must not get a second actor.
      const existing = entries.get(agentId)
      if (existing !== undefined) return existing
      const writer = new SnapshotWriter(agentId, version, version, persist, config.transitionsKeepPerAgent)
      const entry = { actor, writer }
      // The snapshot the last inspection saw (the actor holds it too, so keeping it costs
      // nothing); its projection is derived when the next one needs it. A new agent (version 0)
      // has none, and gets an `agent.created` row with its first snapshot; a restored one starts
      // from the snapshot it was restored from.
      let last: AgentSnapshot | undefined = version === 0 ? undefined : actor.getSnapshot()
      let restoredFrom = stored
      // `@xstate.snapshot` carries each snapshot with the event that produced it (`subscribe`
      // gives the snapshot alone; the last event seen would be wrong when a child's event is
      // queued behind the one being processed). It fires synchronously in the same update,
      // right after subscribers, so `send` still finds the new version offered when it returns.
      actor.system.inspect((inspection) => {
        if (inspection.type !== "@xstate.snapshot" || inspection.actorRef !== actor) return
        const snapshot = actor.getSnapshot()
        // What `subscribe` would see: not the stopped snapshot of a shutdown, nor an error.
        if (snapshot.status !== "active" && snapshot.status !== "done") return
        const projection = projectSnapshot(snapshot)
        const previous = last === undefined ? undefined : projectSnapshot(last)
        // No transition: an event nothing accepted leaves the same snapshot object, and a restored
        // actor re-emits its stored snapshot on start.
        const moved = snapshot !== last && !(inspection.event.type === "xstate.init" && previous !== undefined)
        const transition = moved ? lifecycleTransition(snapshot.context, previous, projection, inspection.event, Date.now()) : undefined
        const persistedSnapshot = actor.getPersistedSnapshot()
        // A restored actor re-emits its stored snapshot on start; unchanged, it is already saved.
        const unchanged = inspection.event.type === "xstate.init" && restoredFrom !== undefined && sameSnapshot(persistedSnapshot, restoredFrom)
        restoredFrom = undefined
        const version = unchanged
          ? writer.version
          : writer.offer(persistedSnapshot, projection, lifecycleActivity(snapshot.context, previous, projection), transition)
        last = snapshot
        // A finished actor (deleted) leaves the map only once its final snapshot is saved, so a
        // reader that no longer finds it can trust the database.
        if (snapshot.status === "done") runFork(Effect.andThen(writer.awaitPersisted(version), () => void entries.delete(agentId)))
      })
      actor.subscribe({ error: (error) => runFork(Effect.logError(`agent ${agentId} actor failed`, error)) })
      entries.set(agentId, entry)
      actor.start()
      forgetStartOptions(actor)
      return entry
    }

    const find = (agentId: string) =>
      Effect.suspend(() => {
        const entry = entries.get(agentId)
        if (entry !== undefined) return Effect.succeed(entry)
        return Effect.flatMap(Ref.get(readiness), (state) =>
          Effect.fail(state.state === "restoring" ? new AgentsRestoring({ agentId }) : new AgentNotFound({ agentId }))
        )
      })

    const persisted = (agentId: string, entry: Entry) =>
      entry.writer.awaitPersisted(entry.writer.version).pipe(
        Effect.timeoutFail({ duration: PERSIST_TIMEOUT_MS, onTimeout: () => new AgentPersistTimeout({ agentId, timeoutMs: PERSIST_TIMEOUT_MS }) })
      )

    // On shutdown the actors stop, the programs they interrupt end (an agents.create already sent
    // runs to usable), and the last snapshots reach the database while it is still there.
    // Each wait is bounded: a dead gateway or database must not hold the process.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const stopping = [...entries.values()]
        for (const entry of stopping) entry.actor.stop()
        entries.clear()
        yield* Effect.forEach([...lanes.values()], (fiber) => Fiber.await(fiber), { discard: true, concurrency: "unbounded" }).pipe(
          Effect.timeout("10 seconds"),
          Effect.ignore
        )
        yield* Effect.forEach(stopping, (entry) => entry.writer.awaitPersisted(entry.writer.version), { discard: true, concurrency: "unbounded" }).pipe(
          Effect.timeout("5 seconds"),
          Effect.ignore
        )
      })
    )

    return AgentSystem.of({
      // Uninterruptible: a client that hangs up after the insert must not leave a row without an actor.
      create: (request) =>
        Effect.uninterruptible(Effect.gen(function* () {
          const gatewayAgentId = gatewayAgentIdFor(request.role, request)
          const input: AgentInput = { ...request, gatewayAgentId, sessionKey: sessionKeyFor(gatewayAgentId), policy: policy() }
          const actor = createActor(logic, { input })
          const initial = actor.getSnapshot()
          const inserted = yield* repo.insert({
            id: request.agentId,
            gatewayId: request.gatewayId,
            boardId: request.boardId,
            role: request.role,
            gatewayAgentId,
            sessionKey: input.sessionKey,
            projection: projectSnapshot(initial),
            snapshot: actor.getPersistedSnapshot(),
            machineVersion: AGENT_MACHINE_VERSION
          }, { workerCap: request.workerCap })
          if (!inserted) return yield* new BoardFull({ boardId: request.boardId ?? "", maxAgents: request.workerCap ?? 0 })
          return start(request.agentId, actor, 0)
        })).pipe(Effect.flatMap((entry) => Effect.as(persisted(request.agentId, entry), entry.actor.getSnapshot()))),
      send: (agentId, event) =>
        Effect.gen(function* () {
          const entry = yield* find(agentId)
          entry.actor.send(event)
          yield* persisted(agentId, entry)
          return entry.actor.getSnapshot()
        }),
      waitFor: (agentId, predicate, timeoutMs) =>
        Effect.gen(function* () {
          const entry = yield* find(agentId)
          const snapshot = yield* Effect.tryPromise({
            try: (signal) => waitForActor(entry.actor, predicate, { timeout: timeoutMs, signal }),
            catch: () =>
              new AgentWaitTimeout({ agentId, timeoutMs, statePath: projectSnapshot(entry.actor.getSnapshot()).statePath })
          })
          yield* persisted(agentId, entry)
          return snapshot
        }),
      restoreAll: Effect.gen(function* () {
        yield* Ref.set(readiness, { state: "restoring" })
        const failures: Array<MachineVersionUnknown | SnapshotInvalid> = []
        let restored = 0
        // Page by page in creation order (an index range each), so neither the database sorts
        // the whole fleet nor this process holds every stored snapshot at once.
        let after: LiveCursor | undefined
        for (;;) {
          const rows = yield* repo.livePage(after, RESTORE_PAGE)
          for (const row of rows) {
            const snapshot = yield* Effect.either(restorableSnapshot(row))
            if (snapshot._tag === "Left") {
              failures.push(snapshot.left)
              yield* Effect.logError(snapshot.left.message)
              continue
            }
            const actor = createActor(logic, { snapshot: snapshot.right as never, input: snapshot.right.context as unknown as AgentInput })
            start(row.id, actor, Number(row.version), row.snapshot)
            restored += 1
            // Time limits follow the current config; the actor re-arms its deadline under them.
            const current = policy()
            if (policyChanged(snapshot.right.context.policy, current)) {
              actor.send({ type: "system.policy", at: yield* Clock.currentTimeMillis, policy: current })
            }
          }
          const last = rows.at(-1)
          if (last === undefined || rows.length < RESTORE_PAGE) break
          after = last.cursor
          // Requests for the agents already restored are served between pages.
          yield* Effect.yieldNow()
        }
        const first = failures[0]
        if (first !== undefined) {
          yield* Ref.set(readiness, { state: "failed", reason: failures.map((failure) => failure.message).join("; ") })
          return yield* first
        }
        yield* Ref.set(readiness, { state: "ready" })
        yield* Effect.logInfo(`restored ${restored} agent actors`)
        return restored
      }).pipe(
        Effect.tapError((error) =>
          error._tag === "SqlError" ? Ref.set(readiness, { state: "failed", reason: `database: ${error.message}` }) : Effect.void
        )
      ),
      readiness: Ref.get(readiness),
      snapshot: (agentId) => entries.get(agentId)?.actor.getSnapshot(),
      requireActor: (agentId) => Effect.asVoid(find(agentId))
    })
  })
)
