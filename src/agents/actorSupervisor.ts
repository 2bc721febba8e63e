import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, type Option, Schedule } from "effect"
import type { StoredSnapshot } from "../store/AgentRepo.ts"
import { agentActorFailures } from "../observability/metrics.ts"
import type { WriterServices } from "../snapshots/SnapshotWriter.ts"
import type { AgentEntry } from "./startAgentActor.ts"
import { AgentsRestoring } from "./AgentSystemErrors.ts"
import { stopAgentActor } from "./agentActorSystem.ts"

/** Restarts allowed per agent within `windowMs`, and the first backoff (doubling per recent restart). */
export interface RestartBudget {
  readonly maxRestarts: number
  readonly windowMs: number
  readonly backoffMs: number
}

/** 3 restarts a minute, 200 ms then 400 ms then 800 ms before each (docs/architecture.md §6.8). */
export const DEFAULT_RESTART_BUDGET: RestartBudget = { maxRestarts: 3, windowMs: 60_000, backoffMs: 200 }

/** Reads of a restarted agent's row: 100 ms doubling to 5 s, 20 retries (about 80 s in all). */
const restartRead = Schedule.exponential("100 millis").pipe(Schedule.either(Schedule.spaced("5 seconds")), Schedule.intersect(Schedule.recurs(20)))

export interface ActorSupervisorOptions {
  readonly entries: Map<string, AgentEntry>
  /** Gateways hosted here or whose restore is under way here. */
  readonly hosting: ReadonlySet<string>
  /** Counts the restart as a create under way, so a leaving gateway waits for it (±1). */
  readonly creatingFor: (gatewayId: string, delta: number) => void
  /** Reads the agent's live row (`liveAgentRow`); none once it is deleted. */
  readonly readRow: (agentId: string) => Effect.Effect<Option.Option<StoredSnapshot>, SqlError, SqlClient.SqlClient>
  /** Starts the actor of a stored row (the path of a restore and a stale reload). */
  readonly restoreRow: (gatewayId: string, row: StoredSnapshot) => Effect.Effect<boolean>
  readonly runFork: (effect: Effect.Effect<void, never, SqlClient.SqlClient | WriterServices>) => unknown
  /** Bound of a dead actor's writer close, ms (a write under way: 2 × the statement timeout). */
  readonly closeWithinMs: number
  readonly budget?: RestartBudget | undefined
}

/** What became of an agent whose actor failed: being restarted, or past its restart budget. */
export type SupervisedState = "restarting" | "failed"

/** One agent's supervision: its gateway, its state ("running" once restarted), and its restarts' times (ms) within the window. */
interface Mark {
  readonly gatewayId: string
  state: SupervisedState | "running"
  readonly restarts: ReadonlyArray<number>
  /** When it was marked failed (ms): a window later, a request gets it one more restart. */
  failedAt?: number
}

/**
 * The error's tag (or name) and its own message string: never its fields, which may hold a
 * snapshot's values. A tagged error without a message of its own prints its fields as its
 * message, so only a message that is an own string property is kept.
 */
export const describeFailure = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const { _tag, name } = error as { readonly _tag?: unknown; readonly name?: unknown }
  const own = Object.getOwnPropertyDescriptor(error, "message")?.value
  const message = typeof own === "string" ? own : undefined
  return message === undefined ? String(_tag ?? name ?? "Error") : `${String(_tag ?? name ?? "Error")}: ${message}`
}

/**
 * Supervision of agent actors (docs/architecture.md §6.8). `onFailed(agentId, error)`, for the
 * actor starter, runs when XState stopped an agent actor in status "error": the failure is logged
 * once (tag and message) and counted (`switchyard_agent_actor_failures_total`), the dead actor
 * leaves `entries` at once, and, within the budget, the agent is restarted after a backoff from
 * its stored row, once every snapshot the dead actor offered is durable (so no accepted event is
 * lost), through `restoreRow`. Past the budget it stays out, `failed`, until a request a window
 * later gets it one more restart, or its gateway is hosted again; so does one whose restart did not
 * start (its row unreadable or not restorable) while its row may exist. An actor that fails while
 * its gateway leaves is counted `gateway_left` and not marked. Marks of restarted agents whose
 * restarts all left the window are dropped. `refusal(agentId)` is what a request for it gets meanwhile;
 * `forgetGateway` clears the marks of a gateway hosted afresh.
 */
export const makeActorSupervisor = (options: ActorSupervisorOptions) => {
  const { entries, hosting, creatingFor, readRow, restoreRow, runFork } = options
  const budget = options.budget ?? DEFAULT_RESTART_BUDGET
  // A new mark per failure: a restart whose actor failed again at once finds its mark replaced.
  const marks = new Map<string, Mark>()

  /**
   * Saves what the dead actor offered (each event it accepted is answered once durable), waiting
   * while its gateway stays hosted, then closes its writer. A refused write (another runner stored
   * a newer version) leaves the row to read. A batch under way is bounded by its statements'
   * timeout; a write that lands later meets the stale fence (docs/architecture.md §11).
   */
  const settle = ({ gatewayId, writer }: AgentEntry) =>
    writer.awaitPersisted(writer.version, { ms: 5_000, onTimeout: () => "pending" as const }).pipe(
      Effect.retry({ while: (error) => error === "pending" && hosting.has(gatewayId) }),
      Effect.ignore,
      Effect.andThen(writer.close().pipe(Effect.timeout(options.closeWithinMs), Effect.ignore))
    )
  /** `settle` of an actor not restarted, counted as a create so a leaving gateway waits for it. */
  const settleCounted = (dead: AgentEntry) => {
    creatingFor(dead.gatewayId, 1)
    return Effect.ensuring(settle(dead), Effect.sync(() => creatingFor(dead.gatewayId, -1)))
  }

  /** Restarts from the row after `delayMs`, once what `dead` offered is saved (none: saved already). */
  const restart = (agentId: string, gatewayId: string, dead: AgentEntry | undefined, mark: Mark, delayMs: number) => {
    // Known only once a read answered no row: else a restart that did not start stays a 503.
    let deleted = false
    return Effect.gen(function* () {
      yield* Effect.sleep(delayMs)
      // The row is read once what the dead actor offered is in it: each accepted event stays.
      if (dead !== undefined) yield* settle(dead)
      const row = yield* readRow(agentId).pipe(
        Effect.tapError((error) => Effect.logWarning(`agent ${agentId}: reading its row to restart its actor failed; retrying`, error)),
        Effect.retry({ schedule: restartRead, while: () => hosting.has(gatewayId) })
      )
      deleted = row._tag === "None"
      if (row._tag === "Some" && hosting.has(gatewayId)) {
        const started = yield* restoreRow(gatewayId, row.value)
        if (started && entries.has(agentId)) yield* Effect.logInfo(`agent ${agentId}: actor restarted from its stored snapshot (version ${row.value.version})`)
      }
    }).pipe(
      Effect.catchAll((error) => Effect.logError(`agent ${agentId}: restarting its actor failed`, describeFailure(error))),
      Effect.ensuring(
        Effect.sync(() => {
          // Restarted: its restarts still count. Deleted, or its gateway left: no mark. Else (its
          // row unreadable, or not restorable) it stays a 503 actor-failed, never a 404.
          if (marks.get(agentId) === mark) {
            if (entries.has(agentId)) mark.state = "running"
            else if (deleted || !hosting.has(gatewayId)) marks.delete(agentId)
            else Object.assign(mark, { state: "failed", failedAt: Date.now() })
          }
          creatingFor(gatewayId, -1)
        })
      )
    )
  }

  const onFailed = (agentId: string, error: unknown): void => {
    const dead = entries.get(agentId)
    if (dead === undefined || dead.actor.getSnapshot().status !== "error") return
    stopAgentActor(dead.actor)
    entries.delete(agentId)
    const now = Date.now()
    // Restarted agents whose restarts are all past the window have no budget spent: no mark.
    for (const [id, kept] of marks) if (kept.state === "running" && kept.restarts.every((at) => now - at >= budget.windowMs)) marks.delete(id)
    const previous = marks.get(agentId)
    const restarts = (previous?.restarts ?? []).filter((at) => now - at < budget.windowMs)
    const { gatewayId } = dead
    if (!hosting.has(gatewayId)) {
      // Its gateway is leaving: the next owner restores it from its row; nothing to mark here.
      marks.delete(agentId)
      agentActorFailures.inc({ outcome: "gateway_left" })
      runFork(Effect.logError(`agent ${agentId}: actor failed (${describeFailure(error)}) while its gateway left this runner`).pipe(Effect.andThen(settleCounted(dead))))
      return
    }
    const givingUp = restarts.length >= budget.maxRestarts
    agentActorFailures.inc({ outcome: givingUp ? "given_up" : "restarted" })
    if (givingUp) {
      marks.set(agentId, { gatewayId, state: "failed", restarts, failedAt: now })
      runFork(
        Effect.logError(`agent ${agentId}: actor failed (${describeFailure(error)}); not restarted: ${restarts.length} restart(s) in ${budget.windowMs} ms already`).pipe(
          Effect.andThen(settleCounted(dead))
        )
      )
      return
    }
    const delayMs = budget.backoffMs * 2 ** restarts.length
    const mark: Mark = { gatewayId, state: "restarting", restarts: [...restarts, now] }
    marks.set(agentId, mark)
    creatingFor(gatewayId, 1)
    runFork(Effect.andThen(Effect.logError(`agent ${agentId}: actor failed (${describeFailure(error)}); restarting it in ${delayMs} ms`), restart(agentId, gatewayId, dead, mark, delayMs)))
  }

  /** A window after it was marked failed, a given-up agent gets one more restart (what Retry-After 60 promises). */
  const retryFailed = (agentId: string, failed: Mark): Mark => {
    // The budget stays spent: if this one restart fails too, the agent gives up again at once.
    const mark: Mark = { gatewayId: failed.gatewayId, state: "restarting", restarts: Array.from({ length: budget.maxRestarts }, () => Date.now()) }
    marks.set(agentId, mark)
    creatingFor(failed.gatewayId, 1)
    runFork(Effect.andThen(Effect.logInfo(`agent ${agentId}: restarting its failed actor once more, ${budget.windowMs} ms on`), restart(agentId, failed.gatewayId, undefined, mark, 0)))
    return mark
  }

  return {
    onFailed,
    /**
     * What a request for the agent gets while its actor is being restarted (`AgentsRestoring`
     * "actor-restarting") or is past its budget ("actor-failed"), its gateway hosted here; else undefined.
     */
    refusal: (agentId: string): AgentsRestoring | undefined => {
      const kept = marks.get(agentId)
      if (kept === undefined || kept.state === "running" || !hosting.has(kept.gatewayId)) return undefined
      const mark = kept.state === "failed" && Date.now() - (kept.failedAt ?? 0) >= budget.windowMs ? retryFailed(agentId, kept) : kept
      return new AgentsRestoring({ agentId, reason: mark.state === "failed" ? "actor-failed" : "actor-restarting" })
    },
    /** Clears the marks of `gatewayId` (hosted afresh or leaving: its agents are restored from their rows). */
    forgetGateway: (gatewayId: string): void => {
      for (const [agentId, mark] of marks) if (mark.gatewayId === gatewayId) marks.delete(agentId)
    }
  }
}
