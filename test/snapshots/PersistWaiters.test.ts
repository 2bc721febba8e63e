import { Effect, Either, Exit, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { SnapshotWriteRefused } from "../../src/snapshots/GroupCommit.ts"
import { PersistWaiters, type PersistWaiter, type WaiterHost } from "../../src/snapshots/PersistWaiters.ts"

/** A host that keeps its waiters in `list`, as a writer does (undefined when empty). */
const listHost = (settled?: Exit.Exit<void, SnapshotWriteRefused>) => {
  const state: { list: Array<PersistWaiter> | undefined } = { list: undefined }
  const host: WaiterHost = {
    enter: (waiter) => {
      if (settled !== undefined) return settled
      state.list ??= []
      state.list.push(waiter)
      return undefined
    },
    leave: (waiter) => void (state.list = PersistWaiters.without(state.list, waiter))
  }
  return { state, host }
}

const refused = new SnapshotWriteRefused({ agentId: "a", version: 3, reason: "withdrawn" })

describe("persist waiters", () => {
  it("hands over the waits still due before answering any, so a wait started from an answer is kept", () => {
    let list: Array<PersistWaiter> | undefined
    const later: PersistWaiter = { version: 5, done: () => {} }
    const answered: PersistWaiter = { version: 1, done: () => void (list = [...(list ?? []), later]) }
    list = [answered]
    PersistWaiters.release(list, 1, (waiting) => (list = waiting))
    expect(list).toEqual([later])
  })

  it("answers the waits up to the saved version and keeps the later ones", async () => {
    const { state, host } = listHost()
    const early = Effect.runFork(PersistWaiters.await(host, 1))
    const late = Effect.runFork(PersistWaiters.await(host, 3))
    await expect.poll(() => state.list?.length).toBe(2)
    PersistWaiters.release(state.list, 2, (waiting) => (state.list = waiting))
    expect(Exit.isSuccess(await Effect.runPromise(Fiber.await(early)))).toBe(true)
    expect(state.list?.map((w) => w.version)).toEqual([3])
    PersistWaiters.fail(state.list, refused)
    expect(await Effect.runPromise(Fiber.join(late).pipe(Effect.either))).toEqual(Either.left(refused))
  })

  it("settles at once when the host says so, adding no waiter", async () => {
    const { state, host } = listHost(Exit.fail(refused))
    expect(await Effect.runPromise(Effect.either(PersistWaiters.await(host, 1, { ms: 60_000, onTimeout: () => "timeout" as const })))).toEqual(Either.left(refused))
    expect(state.list).toBeUndefined()
  })

  it("fails with onTimeout once its time is up, and leaves the host", async () => {
    const { state, host } = listHost()
    const result = await Effect.runPromise(Effect.either(PersistWaiters.await(host, 1, { ms: 0, onTimeout: () => "timeout" as const })))
    expect(result).toEqual(Either.left("timeout"))
    expect(state.list).toBeUndefined()
  })

  it("leaves the host when the waiting fiber is interrupted", async () => {
    const { state, host } = listHost()
    const fiber = Effect.runFork(PersistWaiters.await(host, 1))
    await expect.poll(() => state.list?.length).toBe(1)
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(state.list).toBeUndefined()
  })

  it("removes only the given waiter, and drops the list once empty", () => {
    const one: PersistWaiter = { version: 1, done: () => {} }
    const two: PersistWaiter = { version: 2, done: () => {} }
    const list = [one, two]
    expect(PersistWaiters.without(list, one)).toEqual([two])
    expect(PersistWaiters.without([two], two)).toBeUndefined()
    expect(PersistWaiters.without(undefined, two)).toBeUndefined()
  })
})
