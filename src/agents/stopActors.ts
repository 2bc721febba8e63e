import { Effect, Fiber } from "effect"
import type { ProgramLanes } from "./effectActor.ts"
import type { WriterServices } from "../snapshots/SnapshotWriter.ts"
import type { AgentEntry } from "./startAgentActor.ts"
import { stopAgentActor } from "./agentActorSystem.ts"

/**
 * Stops actors (a shutdown, or their gateway leaving this runner): their programs end (an
 * `agents.create` already sent runs to usable; 10 s at most), their last snapshots reach the
 * database while it is still there (5 s at most), then their writers close (`closeWithinMs` at
 * most: a write already in a batch is waited for, so nothing of this runner is written for them
 * afterwards). A write that outlasts that bound may still land; the next owner's stale fence
 * refuses it or reloads from it (docs/architecture.md §11). Each wait is bounded: a dead gateway
 * or database must not hold the process, or the shard.
 */
export const stopActors = (
  entries: Map<string, AgentEntry>,
  lanes: ProgramLanes,
  stopping: ReadonlyArray<[string, AgentEntry]>,
  closeWithinMs: number
): Effect.Effect<void, never, WriterServices> =>
  Effect.gen(function* () {
    for (const [agentId, entry] of stopping) {
      stopAgentActor(entry.actor)
      if (entries.get(agentId) === entry) entries.delete(agentId)
    }
    const fibers = stopping.flatMap(([agentId]) => {
      const fiber = lanes.get(agentId)
      return fiber === undefined ? [] : [fiber]
    })
    yield* Effect.forEach(fibers, (fiber) => Fiber.await(fiber), { discard: true, concurrency: "unbounded" }).pipe(Effect.timeout("10 seconds"), Effect.ignore)
    yield* Effect.forEach(stopping, ([, entry]) => Effect.ignore(entry.writer.awaitPersisted(entry.writer.version)), { discard: true, concurrency: "unbounded" }).pipe(
      Effect.timeout("5 seconds"),
      Effect.ignore
    )
    yield* Effect.forEach(stopping, ([, entry]) => entry.writer.close(), { discard: true, concurrency: "unbounded" }).pipe(
      Effect.timeout(closeWithinMs),
      Effect.ignore
    )
  })
