import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Data, Effect, Layer, Ref, Runtime } from "effect"
import { createActor, waitFor as waitForActor } from "xstate"
import { AGENT_MACHINE_VERSION, agentMachine, type AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { AgentExternalEvent, AgentInput, AgentPolicy, AgentRole, AgentSpec } from "../../machines/agent/agentTypes.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { TaskRepo } from "../store/TaskRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { AgentConfigBatcher } from "./AgentConfigBatcher.ts"
import { lifecycleActivity } from "./lifecycleActivity.ts"
import { projectSnapshot } from "./agentProjection.ts"
import { effectActor } from "./effectActor.ts"
import { gatewayAgentIdFor, sessionKeyFor } from "./naming.ts"
import { applyAgent } from "./programs/applyAgent.ts"
import { removeAgent } from "./programs/removeAgent.ts"
import { wakeAgent } from "./programs/wakeAgent.ts"
import { PersistedAgentSnapshot } from "./PersistedAgentSnapshot.ts"
import { SnapshotWriter } from "./SnapshotWriter.ts"

export class AgentNotFound extends Data.TaggedError("AgentNotFound")<{ readonly agentId: string }> {}
export class AgentWaitTimeout extends Data.TaggedError("AgentWaitTimeout")<{ readonly agentId: string; readonly timeoutMs: number; readonly statePath: string }> {}
/** A stored snapshot was written by a machine version this build does not know: never guess. */
export class MachineVersionUnknown extends Data.TaggedError("MachineVersionUnknown")<{ readonly agentId: string; readonly version: string }> {
  override get message() {
    return `agent ${this.agentId} was persisted by agent machine version "${this.version}"; this build runs version "${AGENT_MACHINE_VERSION}"`
  }
}

/** Restore progress, as `/readyz` reports it. */
export type Readiness = { readonly state: "restoring" } | { readonly state: "ready" } | { readonly state: "failed"; readonly reason: string }

export interface NewAgentRequest {
  readonly agentId: string
  readonly gatewayId: string
  readonly boardId: string | null
  readonly role: AgentRole
  readonly spec: AgentSpec
}

export interface AgentSystemShape {
  /** Inserts the agent with its initial snapshot, then starts its actor (provisioning begins). */
  readonly create: (request: NewAgentRequest) => Effect.Effect<AgentSnapshot, SqlError>
  /** Sends an event and completes once the snapshot it produced is persisted. */
  readonly send: (agentId: string, event: AgentExternalEvent) => Effect.Effect<AgentSnapshot, AgentNotFound>
  /** Waits until `predicate` holds for the agent's snapshot (then until it is persisted), or `timeoutMs`. */
  readonly waitFor: (
    agentId: string,
    predicate: (snapshot: AgentSnapshot) => boolean,
    timeoutMs: number
  ) => Effect.Effect<AgentSnapshot, AgentNotFound | AgentWaitTimeout>
  /** Restores every agent that is not deleted from its snapshot; in-flight work resumes. */
  readonly restoreAll: Effect.Effect<number, SqlError | MachineVersionUnknown>
  /** `ready` once `restoreAll` has finished; `failed` with the reason if it could not. */
  readonly readiness: Effect.Effect<Readiness>
  readonly snapshot: (agentId: string) => AgentSnapshot | undefined
}

/** The agent actors of this process: one XState actor per agent, persisted after every transition. */
export class AgentSystem extends Context.Tag("switchyard/AgentSystem")<AgentSystem, AgentSystemShape>() {}

interface Entry {
  readonly actor: ReturnType<typeof createActor<typeof agentMachine>>
  readonly writer: SnapshotWriter
}

export const AgentSystemLive = Layer.scoped(
  AgentSystem,
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<
      AppConfig | GatewayClient | AgentConfigBatcher | GatewayRepo | BoardRepo | AgentRepo | TaskRepo | ActivityRepo | SqlClient.SqlClient
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
      retryBaseMs: config.retryBaseMs
    })
    const logic = agentMachine.provide({
      actors: {
        applyAgent: effectActor(runtime, "apply", applyAgent),
        wakeAgent: effectActor(runtime, "wake", wakeAgent),
        removeAgent: effectActor(runtime, "remove", removeAgent)
      }
    })

    const start = (agentId: string, actor: Entry["actor"], version: number) => {
      const writer = new SnapshotWriter(agentId, version, version, (effect) => void runFork(effect))
      const entry = { actor, writer }
      let previous = projectSnapshot(actor.getSnapshot())
      actor.subscribe({
        next: (snapshot) => {
          const projection = projectSnapshot(snapshot)
          const version = writer.offer(actor.getPersistedSnapshot(), projection, lifecycleActivity(snapshot.context, previous, projection))
          previous = projection
          // A finished actor (deleted) leaves the map only once its final snapshot is saved, so a
          // reader that no longer finds it can trust the database.
          if (snapshot.status === "done") runFork(Effect.andThen(writer.awaitPersisted(version), () => void entries.delete(agentId)))
        },
        error: (error) => runFork(Effect.logError(`agent ${agentId} actor failed`, error))
      })
      entries.set(agentId, entry)
      actor.start()
      return entry
    }

    const find = (agentId: string) => {
      const entry = entries.get(agentId)
      return entry === undefined ? Effect.fail(new AgentNotFound({ agentId })) : Effect.succeed(entry)
    }

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const entry of entries.values()) entry.actor.stop()
        entries.clear()
      })
    )

    return AgentSystem.of({
      create: (request) =>
        Effect.gen(function* () {
          const gatewayAgentId = gatewayAgentIdFor(request.role, request)
          const input: AgentInput = { ...request, gatewayAgentId, sessionKey: sessionKeyFor(gatewayAgentId), policy: policy() }
          const actor = createActor(logic, { input })
          const initial = actor.getSnapshot()
          yield* repo.insert({
            id: request.agentId,
            gatewayId: request.gatewayId,
            boardId: request.boardId,
            role: request.role,
            gatewayAgentId,
            sessionKey: input.sessionKey,
            projection: projectSnapshot(initial),
            snapshot: actor.getPersistedSnapshot(),
            machineVersion: AGENT_MACHINE_VERSION
          })
          const entry = start(request.agentId, actor, 0)
          yield* entry.writer.awaitPersisted(entry.writer.version)
          return actor.getSnapshot()
        }),
      send: (agentId, event) =>
        Effect.gen(function* () {
          const entry = yield* find(agentId)
          entry.actor.send(event)
          yield* entry.writer.awaitPersisted(entry.writer.version)
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
          yield* entry.writer.awaitPersisted(entry.writer.version)
          return snapshot
        }),
      restoreAll: Effect.gen(function* () {
        yield* Ref.set(readiness, { state: "restoring" })
        const rows = yield* repo.live
        for (const row of rows) {
          if (entries.has(row.id)) continue
          if (row.machineVersion !== AGENT_MACHINE_VERSION) {
            return yield* new MachineVersionUnknown({ agentId: row.id, version: row.machineVersion })
          }
          const stored = PersistedAgentSnapshot.parse(row.snapshot)
          // Time limits follow the current config, not the one in force when the snapshot was taken.
          const snapshot = { ...stored, context: { ...stored.context, policy: policy() } }
          const actor = createActor(logic, { snapshot: snapshot as never, input: snapshot.context as unknown as AgentInput })
          start(row.id, actor, Number(row.version))
        }
        yield* Ref.set(readiness, { state: "ready" })
        yield* Effect.logInfo(`restored ${rows.length} agent actors`)
        return rows.length
      }).pipe(
        Effect.tapError((error) =>
          Ref.set(readiness, { state: "failed", reason: error._tag === "MachineVersionUnknown" ? error.message : `database: ${error.message}` })
        )
      ),
      readiness: Ref.get(readiness),
      snapshot: (agentId) => entries.get(agentId)?.actor.getSnapshot()
    })
  })
)
