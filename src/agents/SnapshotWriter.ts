import { SqlClient } from "@effect/sql"
import { Deferred, Duration, Effect, FiberId } from "effect"
import { ActivityRepo, type ActivityEntry } from "../store/ActivityRepo.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import type { AgentProjection } from "./agentProjection.ts"

interface Pending {
  readonly version: number
  readonly snapshot: unknown
  readonly projection: AgentProjection
}

/** Delay before the next attempt of a failed write: 100 ms doubling to 5 s. */
const retryDelay = (failures: number) => Duration.millis(Math.min(5_000, 100 * 2 ** failures))

/**
 * Persists one agent's snapshots in order, one write at a time (writes are serialised per
 * agent). Snapshots that arrive while a write is under way are coalesced: only the newest is
 * written, because it contains every earlier change; activity entries are never coalesced and
 * go in the same transaction. Versions are monotonic per agent.
 */
export class SnapshotWriter {
  private latest: Pending | undefined
  private activity: ActivityEntry[] = []
  private writing = false
  private readonly waiters: Array<{ version: number; done: Deferred.Deferred<void> }> = []

  constructor(
    readonly agentId: string,
    /** Version of the last snapshot handed to `offer` (or restored). */
    public version: number,
    /** Version of the last snapshot known to be in the database. */
    public persisted: number,
    private readonly run: (effect: Effect.Effect<void, never, SqlClient.SqlClient | AgentRepo | ActivityRepo>) => void
  ) {}

  /** Queues a snapshot; returns its version. */
  offer(snapshot: unknown, projection: AgentProjection, activity: ReadonlyArray<ActivityEntry>): number {
    this.version += 1
    this.latest = { version: this.version, snapshot, projection }
    this.activity.push(...activity)
    if (!this.writing) {
      this.writing = true
      this.run(this.drain())
    }
    return this.version
  }

  /** Completes once the snapshot of `version` (or a later one) is in the database. */
  awaitPersisted(version: number): Effect.Effect<void> {
    // Check and enqueue in one synchronous step, so a drain finishing in between is not missed.
    return Effect.suspend(() => {
      if (this.persisted >= version) return Effect.void
      const done = Deferred.unsafeMake<void>(FiberId.none)
      this.waiters.push({ version, done })
      return Deferred.await(done)
    })
  }

  private drain(): Effect.Effect<void, never, SqlClient.SqlClient | AgentRepo | ActivityRepo> {
    const self = this
    return Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const agents = yield* AgentRepo
      const activityRepo = yield* ActivityRepo
      let failures = 0
      while (self.latest !== undefined && self.latest.version > self.persisted) {
        // Always the newest snapshot: a later one may succeed where an earlier one could not.
        const item = self.latest
        const activity = self.activity
        self.activity = []
        const written = yield* Effect.forEach(activity, (entry) => activityRepo.record(entry), { discard: true }).pipe(
          Effect.zipRight(agents.save(self.agentId, item.projection, item.snapshot, item.version)),
          sql.withTransaction,
          Effect.either
        )
        if (written._tag === "Left") {
          self.activity = [...activity, ...self.activity]
          yield* Effect.logError(`persisting agent ${self.agentId} failed (attempt ${failures + 1}); retrying`, written.left)
          yield* Effect.sleep(retryDelay(failures++))
          continue
        }
        failures = 0
        self.persisted = item.version
        for (const waiter of self.waiters.filter((w) => w.version <= item.version)) {
          self.waiters.splice(self.waiters.indexOf(waiter), 1)
          yield* Deferred.succeed(waiter.done, undefined)
        }
      }
    }).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          this.writing = false
          // An offer may land between the loop's last check and here: drain again.
          if (this.latest !== undefined && this.latest.version > this.persisted) {
            this.writing = true
            this.run(this.drain())
          }
        })
      )
    )
  }
}
