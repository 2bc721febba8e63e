import type { SqlError } from "@effect/sql/SqlError"
import { type Clock, Effect, Either, Fiber } from "effect"
import type { agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentInput, AgentPolicy } from "../../machines/agent/agentTypes.ts"
import type { GatewayRowCursor } from "../store/gatewayAgentRows.ts"
import type { StoredSnapshot } from "../store/AgentRepo.ts"
import type { MachineVersionUnknown, SnapshotInvalid } from "./AgentSystemErrors.ts"
import { policyChanged, restorableSnapshot, restoreShares, shareRestoredValues, type RestoreShares } from "./restoreAgent.ts"
import type { ActorStarter } from "./startAgentActor.ts"

export interface RowRestorerOptions {
  /** The machine with its programs provided. */
  readonly logic: typeof agentMachine
  /** Creates and starts the actors, in the runner's shared actor system. */
  readonly starter: Pick<ActorStarter, "create" | "start">
  /** Rows that cannot be restored, by agent id (a row restored later leaves it). */
  readonly failures: Map<string, MachineVersionUnknown | SnapshotInvalid>
  /** The service's current policy. */
  readonly policy: () => AgentPolicy
  /** One page of a gateway's live rows after `after`, in cursor order (`liveGatewayPage`). */
  readonly readPage: (gatewayId: string, after: GatewayRowCursor | undefined) => Effect.Effect<ReadonlyArray<StoredSnapshot & { readonly cursor: GatewayRowCursor }>, SqlError>
}

/** How far a gateway's restore got: the cursor after the last page restored, and the actors started so far. */
export interface GatewayRestoreProgress {
  after: GatewayRowCursor | undefined
  restored: number
}

/** Resumes on the event loop's next turn (`setImmediate`): what was started before it has run up to its I/O. */
const nextTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * Starts actors from stored rows (docs/architecture.md §6.6): `restoreGateway` pages through a
 * gateway's rows from `progress`, reading each page while the one before starts; `startPage`
 * starts one page of rows synchronously, with no Effect per row, and answers the count started;
 * `restoreRow` starts one row (a reload), false if it cannot be restored. A row that cannot is
 * recorded in `failures` and logged.
 */
export const makeRowRestorer = (options: RowRestorerOptions, pageSize = 1_000) => {
  const { logic, starter, failures } = options
  /**
   * Starts the actor of one stored row; answers why it cannot be restored, or undefined.
   * `current` is the service's policy, `clock` stamps the `system.policy` sent when it differs;
   * `seen` shares one copy of equal board ids and heartbeats across the rows of a page (shareRestoredValues).
   */
  const startRow = (gatewayId: string, row: StoredSnapshot, current: AgentPolicy, clock: Clock.Clock, seen: RestoreShares) => {
    const snapshot = restorableSnapshot(row)
    if (Either.isLeft(snapshot)) {
      failures.set(row.id, snapshot.left)
      return snapshot.left
    }
    failures.delete(row.id)
    shareRestoredValues(snapshot.right.context as Record<string, unknown>, { agentId: row.id, gatewayId, policy: current, seen })
    const actor = starter.create(logic, row.id, { snapshot: snapshot.right, input: snapshot.right.context as unknown as AgentInput })
    starter.start(row.id, gatewayId, actor, Number(row.version), row.snapshot)
    // Time limits follow the current config; the actor re-arms its deadline under them.
    if (policyChanged(snapshot.right.context.policy, current)) {
      actor.send({ type: "system.policy", at: clock.unsafeCurrentTimeMillis(), policy: current })
    }
    return undefined
  }

  const restoreRow = (gatewayId: string, row: StoredSnapshot): Effect.Effect<boolean> =>
    Effect.gen(function* () {
      const failure = startRow(gatewayId, row, options.policy(), yield* Effect.clock, restoreShares())
      if (failure !== undefined) yield* Effect.logError(failure.message)
      return failure === undefined
    })

  const startPage = (gatewayId: string, rows: ReadonlyArray<StoredSnapshot>) =>
    Effect.gen(function* () {
      const current = options.policy()
      const clock = yield* Effect.clock
      const seen = restoreShares()
      let restored = 0
      for (const row of rows) {
        const failure = startRow(gatewayId, row, current, clock, seen)
        if (failure === undefined) restored += 1
        else yield* Effect.logError(failure.message)
      }
      return restored
    })

  /**
   * Restores a gateway's rows page by page from `progress`, advancing it after each page. The
   * next page (after a full one: one shorter than `pageSize` is the last) is read while this one
   * starts, so the database's time overlaps the actors' start; `between` runs once that read is
   * under way, before each page starts (requests for agents already restored are served then). A
   * page whose read fails starts nothing, so a retry given the same progress resumes with that
   * page: the actors of earlier pages, which still run, are not read or created again. Answers
   * the actors started over every attempt. Errors: SqlError.
   */
  const restoreGateway = (gatewayId: string, progress: GatewayRestoreProgress, between: Effect.Effect<void>) =>
    Effect.gen(function* () {
      let rows = yield* options.readPage(gatewayId, progress.after)
      for (;;) {
        const next = rows.length < pageSize ? undefined : rows.at(-1)?.cursor
        // A child fiber: it ends with this restore, interrupted if the restore is.
        const ahead = next === undefined ? undefined : yield* Effect.fork(options.readPage(gatewayId, next))
        // A turn of the event loop lets that read send its query (a yield within the turn does not).
        if (ahead !== undefined) yield* nextTurn
        yield* between
        progress.restored += yield* startPage(gatewayId, rows)
        if (ahead === undefined) return progress.restored
        progress.after = next
        rows = yield* Fiber.join(ahead)
      }
    })

  return { restoreRow, startPage, restoreGateway }
}
