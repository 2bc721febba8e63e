import { Effect, Either, Exit, FiberId } from "effect"
import { describe, expect, it } from "vitest"
import type { AgentProjection } from "../../src/agents/agentProjection.ts"
import { GroupCommit, type AgentWrite, type GroupCommitShape, type WriteDone } from "../../src/snapshots/GroupCommit.ts"
import { SnapshotWriter, type WriterServices } from "../../src/snapshots/SnapshotWriter.ts"

/** A group commit whose n-th write (1-based) is answered with `outcome(n)`, a moment later. */
const fakeGroupCommit = (outcome: (n: number) => Exit.Exit<void, never>) => {
  const writes: Array<AgentWrite> = []
  const shape = GroupCommit.of({
    write: () => Effect.die("not used"),
    enqueue: (write: AgentWrite, done: WriteDone) => {
      writes.push(write)
      const n = writes.length
      setTimeout(() => done(outcome(n)), 1)
    },
    withdraw: () => Effect.void
  } as unknown as GroupCommitShape)
  const run = (effect: Effect.Effect<void, never, WriterServices>) => void Effect.runFork(Effect.provideService(effect, GroupCommit, shape))
  return { writes, run }
}

const projection = {} as AgentProjection

describe("snapshot writer", () => {
  it("retries a write that died (a defect is not a shutdown) and answers its waiter", async () => {
    const commits = fakeGroupCommit((n) => (n === 1 ? Exit.die(new Error("driver bug")) : Exit.void))
    const writer = new SnapshotWriter("a", 0, 0, commits.run, 100)
    const version = writer.offer({ v: 1 }, projection, [])
    const result = await Effect.runPromise(Effect.either(writer.awaitPersisted(version, { ms: 5_000, onTimeout: () => "timeout" as const })))
    expect(Either.isRight(result)).toBe(true)
    expect(commits.writes.map((write) => write.version)).toEqual([1, 1])
    expect(writer.persisted).toBe(1)
  })

  it("fails its waiters when the group commit shut down under a write, instead of leaving them waiting", async () => {
    const commits = fakeGroupCommit(() => Exit.interrupt(FiberId.none))
    const writer = new SnapshotWriter("a", 0, 0, commits.run, 100)
    const version = writer.offer({ v: 1 }, projection, [])
    const result = await Effect.runPromise(Effect.either(writer.awaitPersisted(version, { ms: 5_000, onTimeout: () => "timeout" as const })))
    expect(result).toEqual(Either.left(expect.objectContaining({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })))
    expect(commits.writes).toHaveLength(1)
  })
})
