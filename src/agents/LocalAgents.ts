import type { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Runtime, type Scope } from "effect"
import { waitFor as waitForActor } from "xstate"
import { AGENT_MACHINE_VERSION, agentMachine, type AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { AgentExternalEvent, AgentInput, AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { TaskRepo } from "../store/TaskRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { TransitionRepo } from "../store/TransitionRepo.ts"
import { WorkspaceHashes } from "../store/WorkspaceHashes.ts"
import { AgentConfigBatcher } from "./AgentConfigBatcher.ts"
import { agentPolicy } from "./agentPolicy.ts"
import { projectSnapshot } from "./agentProjection.ts"
import { effectActor, type ProgramLanes } from "./effectActor.ts"
import { gatewayAgentIdFor, sessionKeyFor } from "./naming.ts"
import { applyAgent, applyReads } from "./programs/applyAgent.ts"
import { removeAgent } from "./programs/removeAgent.ts"
import { wakeAgent } from "./programs/wakeAgent.ts"
import { AgentNotFound, AgentsRestoring, BoardFull, AgentPersistTimeout, AgentWaitTimeout, type MachineVersionUnknown, type SnapshotInvalid } from "./AgentSystemErrors.ts"
import type { NewAgentRequest } from "./AgentSystem.ts"
import { makeRowRestorer, type GatewayRestoreProgress } from "./restoreRows.ts"
import type { WriterServices } from "../snapshots/SnapshotWriter.ts"
import { GroupCommit } from "../snapshots/GroupCommit.ts"
import { liveGatewayPage } from "../store/gatewayAgentRows.ts"
import { makeStaleReloader } from "./staleReloader.ts"
import { AgentTokenCache } from "./AgentTokenCache.ts"
import { makeActorStarter, type AgentEntry } from "./startAgentActor.ts"
import { agentDeadlines } from "./agentDeadlines.ts"
import { stopActors } from "./stopActors.ts"
import { makeActorSupervisor } from "./actorSupervisor.ts"
import { makeCreateCounter } from "./createCounter.ts"
import { liveAgentRow } from "../store/liveAgentRow.ts"
import { observing } from "./slimStartedActor.ts"
import { callerSpan, continueTrace } from "../observability/tracing.ts"

/**
 * How long a caller waits for its event's snapshot to reach the database before a 503
 * (`AgentPersistTimeout`). The cluster's owner timeout is derived from it (docs/architecture.md §11).
 */
export const PERSIST_TIMEOUT_MS = 15_000

/** Stored agents read per restore query. */
const RESTORE_PAGE = 1_000

export interface LocalAgentsShape {
  /** Inserts the agent with its initial snapshot and starts its actor here. Errors: BoardFull, SqlError, AgentPersistTimeout. */
  readonly create: (request: NewAgentRequest) => Effect.Effect<AgentSnapshot, BoardFull | SqlError | AgentPersistTimeout>
  /**
   * Sends an event to the actor running here; answers the snapshot it made once persisted (15 s,
   * else AgentPersistTimeout). AgentsRestoring: owner-unavailable when the snapshot will never be
   * saved here (another runner stored a newer version, or the gateway left this runner);
   * actor-restarting / actor-failed when the actor failed, this event's transition or an earlier
   * one (docs/architecture.md §6.8).
   */
  readonly send: (agentId: string, event: AgentExternalEvent) => Effect.Effect<AgentSnapshot, AgentNotFound | AgentPersistTimeout | AgentsRestoring>
  /** `send`, answering the persisted form of the snapshot the event made (what the gateway entity returns). */
  readonly sendDurable: (agentId: string, event: AgentExternalEvent) => Effect.Effect<unknown, AgentNotFound | AgentPersistTimeout | AgentsRestoring>
  /** Waits until `predicate` holds for the actor here (then, unless `durable` is false, until persisted), or `timeoutMs`. */
  readonly waitFor: (
    agentId: string,
    predicate: (snapshot: AgentSnapshot) => boolean,
    timeoutMs: number,
    options?: { readonly durable?: boolean }
  ) => Effect.Effect<AgentSnapshot, AgentNotFound | AgentWaitTimeout | AgentPersistTimeout | AgentsRestoring>
  /**
   * Succeeds when the agent's actor runs here; else AgentsRestoring while it is reloaded or
   * restarted or past its restart budget (docs/architecture.md §6.8), or AgentNotFound.
   */
  readonly require: (agentId: string) => Effect.Effect<void, AgentNotFound | AgentsRestoring>
  /** The current snapshot of an actor running here. */
  readonly snapshot: (agentId: string) => AgentSnapshot | undefined
  /** The persisted form of an actor's snapshot once it is durable (what another runner rebuilds from). */
  readonly durableSnapshot: (agentId: string) => Effect.Effect<unknown, AgentNotFound | AgentPersistTimeout | AgentsRestoring>
  /**
   * Hosts one gateway in the caller's scope (the gateway entity's activation): restores its live
   * agents page by page through the same code path as a full restore; rows that cannot be
   * restored are recorded in `failures` and skipped. When the scope closes, the gateway's actors
   * stop, their programs end (10 s at most), their last snapshots are saved (5 s at most), their
   * writers close (a write under way is waited for, 2 × the statement timeout at most), and only
   * then may the shard move (docs/architecture.md §11). A call that failed (a page could not be
   * read) may be retried in the same scope: it resumes with that page, the actors of earlier pages
   * still running. Returns the count restored over every attempt. Errors: SqlError.
   */
  readonly hostGateway: (gatewayId: string) => Effect.Effect<number, SqlError, Scope.Scope>
  /** Whether the gateway's actors are restored and running here. */
  readonly hosts: (gatewayId: string) => boolean
  /**
   * Whether this runner hosts (or is restoring) `gatewayId` and runs the agent's actor for it
   * now: an agent restored during a gateway's restore may take requests before the restore ends.
   * False from the moment the gateway starts leaving (docs/architecture.md §6.6).
   */
  readonly serves: (gatewayId: string, agentId: string) => boolean
  /** Rows that could not be restored (unknown machine version, unreadable snapshot), across hosted gateways. */
  readonly failures: () => ReadonlyArray<MachineVersionUnknown | SnapshotInvalid>
  /** Actors running here. */
  readonly actorCount: () => number
  /** Gateways hosted here. */
  readonly hostedCount: () => number
  /** The ids of the gateways hosted here (their actors restored). */
  readonly hostedGateways: () => ReadonlyArray<string>
  /** The gateway of an agent whose actor runs here. */
  readonly gatewayOf: (agentId: string) => string | undefined
}

/** The agent actors hosted by this runner: one XState actor per agent, persisted after every transition. */
export class LocalAgents extends Context.Tag("switchyard/LocalAgents")<LocalAgents, LocalAgentsShape>() {}

export const LocalAgentsLive = Layer.scoped(
  LocalAgents,
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<
      AppConfig | GatewayClient | AgentConfigBatcher | GatewayRepo | BoardRepo | AgentRepo | TaskRepo | ActivityRepo | TransitionRepo | SqlClient.SqlClient | GroupCommit | WorkspaceHashes
    >()
    const config = yield* AppConfig
    const repo = yield* AgentRepo
    const tokens = yield* AgentTokenCache
    const entries = new Map<string, AgentEntry>()
    const hosted = new Set<string>()
    // Gateways hosted here or whose restore is under way: a stale refusal meanwhile reloads the actor.
    const hosting = new Set<string>()
    // How far each hosted gateway's restore got, while its scope is open (a retry resumes there).
    const restoring = new Map<string, GatewayRestoreProgress>()
    const reloading = new Set<string>()
    // A write under way when writers close: its batch's statements, each within the statement timeout.
    const closeWithinMs = 2 * config.dbStatementTimeoutMs
    // Creates under way per gateway: a gateway leaving waits for them (createCounter.ts): a restart's
    // backoff (1 s) and saves (5 s), its writer's close, a read of its row (docs/architecture.md §11).
    const { creatingFor, createsSettled } = makeCreateCounter(6_000 + closeWithinMs + config.dbStatementTimeoutMs)
    const failures = new Map<string, MachineVersionUnknown | SnapshotInvalid>()
    const runFork = Runtime.runFork(runtime)
    const policy = (): AgentPolicy => agentPolicy(config)
    const lanes: ProgramLanes = new Map()
    // Write-ahead (effectActor): a program waits until the agent's latest snapshot is saved. A
    // snapshot that will never be saved here (writer ended) starts no program: it ends.
    const awaitDurable = (agentId: string) =>
      Effect.suspend(() => {
        const entry = entries.get(agentId)
        return entry === undefined ? Effect.void : entry.writer.awaitPersisted(entry.writer.version).pipe(Effect.catchAll(() => Effect.interrupt))
      })
    // Every agent's retry, check-in and offline deadline behind one timer, armed by the host
    // from the snapshot (docs/architecture.md §3.3).
    const deadlines = agentDeadlines()
    const logic = agentMachine.provide({
      actors: {
        applyAgent: effectActor(runtime, lanes, awaitDurable, "apply", applyAgent, applyReads),
        wakeAgent: effectActor(runtime, lanes, awaitDurable, "wake", wakeAgent),
        removeAgent: effectActor(runtime, lanes, awaitDurable, "remove", removeAgent)
      }
    })

    // A write (one drain of a writer) is a span in the trace of the transition that offered it.
    // One function for every writer: a closure per agent would cost a fleet a closure each.
    const persist = (effect: Effect.Effect<void, never, WriterServices>, agentId: string) =>
      void runFork(effect.pipe(continueTrace(callerSpan(), { span: "Agents.persistSnapshot", attributes: { agent_id: agentId } })))
    // A stale refusal reloads the actor from the stored snapshot (staleReloader.ts, docs/architecture.md §11).
    // `rows` is made below, with the starter this reloader is part of; a reload runs later.
    const onStale = makeStaleReloader({ entries, hosting, reloading, creatingFor, restoreRow: (gatewayId, row) => rows.restoreRow(gatewayId, row), runFork })
    // A failed actor is restarted from its stored row, within a budget (docs/architecture.md §6.8).
    const supervisor = makeActorSupervisor({ entries, hosting, creatingFor, closeWithinMs, readRow: liveAgentRow, restoreRow: (gatewayId, row) => rows.restoreRow(gatewayId, row), runFork })
    const starter = makeActorStarter({ entries, persist, runFork, transitionsKeepPerAgent: config.transitionsKeepPerAgent, deadlines, onStale, tokens, onFailed: supervisor.onFailed })
    // An actor that failed under a caller: its event was not applied; retry shortly (or 503 past the budget).
    const failedUnder = (agentId: string) => supervisor.refusal(agentId) ?? new AgentsRestoring({ agentId, reason: "actor-restarting" })

    // An agent being reloaded exists: 503, not 404 (docs/operations.md §7.3).
    const missing = (agentId: string): Effect.Effect<never, AgentNotFound | AgentsRestoring> =>
      Effect.fail(supervisor.refusal(agentId) ?? (reloading.has(agentId) ? new AgentsRestoring({ agentId, reason: "owner-unavailable" }) : new AgentNotFound({ agentId })))
    const find = (agentId: string) =>
      Effect.suspend((): Effect.Effect<AgentEntry, AgentNotFound | AgentsRestoring> => {
        const entry = entries.get(agentId)
        return entry !== undefined ? Effect.succeed(entry) : missing(agentId)
      })

    // Every heartbeat comes through here: the actor is found and sent to without a generator. The
    // answer is read at once: another event may kill the actor before the snapshot is durable (§6.8).
    const sendThen = <A>(agentId: string, event: AgentExternalEvent, read: (actor: AgentEntry["actor"]) => A) =>
      Effect.suspend((): Effect.Effect<A, AgentNotFound | AgentPersistTimeout | AgentsRestoring> => {
        const entry = entries.get(agentId)
        if (entry === undefined) return missing(agentId)
        entry.actor.send(event)
        if (entry.actor.getSnapshot().status === "error") return Effect.fail(failedUnder(agentId))
        return Effect.as(persisted(agentId, entry), read(entry.actor))
      })
    const persisted = (agentId: string, entry: AgentEntry) =>
      // The writer's own timer: a race of fibers per event would cost more than the wait.
      entry.writer.awaitPersisted(entry.writer.version, { ms: PERSIST_TIMEOUT_MS, onTimeout: () => new AgentPersistTimeout({ agentId, timeoutMs: PERSIST_TIMEOUT_MS }) }).pipe(
        Effect.mapError((error) => (error._tag === "SnapshotWriteRefused" ? new AgentsRestoring({ agentId, reason: "owner-unavailable" }) : error))
      )

    const stopAll = (stopping: ReadonlyArray<[string, AgentEntry]>) => stopActors(entries, lanes, stopping, closeWithinMs).pipe(Effect.provide(runtime))
    yield* Effect.addFinalizer(() => Effect.suspend(() => stopAll([...entries.entries()])))

    const rows = makeRowRestorer({ logic, starter, failures, policy, readPage: (gatewayId, after) => liveGatewayPage(gatewayId, after, RESTORE_PAGE).pipe(Effect.provide(runtime)) }, RESTORE_PAGE)

    return LocalAgents.of({
      // Uninterruptible: a client that hangs up after the insert must not leave a row without an actor.
      create: (request) =>
        Effect.uninterruptible(Effect.gen(function* () {
          // A gateway that is leaving (or not yet restored) takes no new actor here.
          if (!hosted.has(request.gatewayId)) {
            return yield* new SqlError({ cause: "owner unavailable", message: `gateway ${request.gatewayId} is not hosted on this runner (it is moving)` })
          }
          creatingFor(request.gatewayId, 1)
          yield* Effect.addFinalizer(() => Effect.sync(() => creatingFor(request.gatewayId, -1)))
          const { adopt, ...rest } = request
          const gatewayAgentId = adopt?.gatewayAgentId ?? gatewayAgentIdFor(request.role, request)
          const input: AgentInput = { ...rest, gatewayAgentId, sessionKey: sessionKeyFor(gatewayAgentId), policy: policy(), ...(adopt === undefined ? {} : { adoption: { keepFiles: adopt.keepFiles } }) }
          const actor = starter.create(logic, request.agentId, { input })
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
          return starter.start(request.agentId, request.gatewayId, actor, 0)
        }).pipe(Effect.scoped)).pipe(
          Effect.flatMap((entry) => Effect.as(persisted(request.agentId, entry), entry.actor.getSnapshot())),
          // The agent is stored; its first snapshot was not saved here (the gateway moved): a 503 as a database failure is.
          Effect.catchTag("AgentsRestoring", () => new SqlError({ cause: "owner unavailable", message: `agent ${request.agentId}: its gateway ${request.gatewayId} moved while it was created` }))
        ),
      send: (agentId, event) => sendThen(agentId, event, (actor) => actor.getSnapshot()),
      sendDurable: (agentId, event) => sendThen(agentId, event, (actor) => actor.getPersistedSnapshot()),
      waitFor: (agentId, predicate, timeoutMs, options) =>
        Effect.gen(function* () {
          const entry = yield* find(agentId)
          const snapshot = yield* Effect.tryPromise({
            try: (signal) => observing(entry.actor, () => waitForActor(entry.actor, predicate, { timeout: timeoutMs, signal })),
            catch: () => (entry.actor.getSnapshot().status === "error" ? failedUnder(agentId) : new AgentWaitTimeout({ agentId, timeoutMs, statePath: projectSnapshot(entry.actor.getSnapshot()).statePath }))
          })
          if (options?.durable !== false) yield* persisted(agentId, entry)
          return snapshot
        }),
      require: (agentId) => Effect.asVoid(find(agentId)),
      snapshot: (agentId) => entries.get(agentId)?.actor.getSnapshot(),
      durableSnapshot: (agentId) =>
        Effect.gen(function* () {
          const entry = yield* find(agentId)
          const snapshot = entry.actor.getPersistedSnapshot()
          yield* persisted(agentId, entry)
          return snapshot
        }),
      hostGateway: (gatewayId) =>
        Effect.gen(function* () {
          // The entity retries a failed restore in the same scope: the first attempt's actors run
          // on, so the retry resumes after the last page restored, under the same finalizer.
          // Progress and its finalizer come as one step: progress without a finalizer (an
          // interruption between them) would let a later activation resume with no finalizer,
          // leaving its actors running after the shard moved.
          const progress = yield* Effect.uninterruptible(
            Effect.suspend(() => {
              const kept = restoring.get(gatewayId)
              if (kept !== undefined) return Effect.succeed(kept)
              const fresh: GatewayRestoreProgress = { after: undefined, restored: 0 }
              restoring.set(gatewayId, fresh)
              hosting.add(gatewayId)
              supervisor.forgetGateway(gatewayId)
              return Effect.as(
                Effect.addFinalizer(() =>
                  Effect.suspend(() => {
                    hosted.delete(gatewayId)
                    hosting.delete(gatewayId)
                    supervisor.forgetGateway(gatewayId)
                    restoring.delete(gatewayId)
                    return Effect.andThen(createsSettled(gatewayId), () =>
                      stopAll([...entries.entries()].filter(([, entry]) => entry.gatewayId === gatewayId))
                    )
                  })
                ),
                fresh
              )
            })
          )
          // Requests for the agents already restored are served between pages.
          const restored = yield* rows.restoreGateway(gatewayId, progress, Effect.yieldNow())
          hosted.add(gatewayId)
          return restored
        }),
      hosts: (gatewayId) => hosted.has(gatewayId),
      serves: (gatewayId, agentId) => hosting.has(gatewayId) && entries.get(agentId)?.gatewayId === gatewayId,
      failures: () => [...failures.values()],
      actorCount: () => entries.size,
      hostedCount: () => hosted.size,
      hostedGateways: () => [...hosted],
      gatewayOf: (agentId) => entries.get(agentId)?.gatewayId
    })
  })
)
