import { Runner, RunnerAddress, type RunnerStorage } from "@effect/cluster"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { sharedRunnerReads } from "../../src/cluster/sharedRunnerReads.ts"

/** A storage whose reads are counted and whose one runner's health is what it was last set to. */
const countingStorage = () => {
  const state = { reads: 0, healthy: true }
  const address = RunnerAddress.make("10.0.0.1", 1)
  const runner = Runner.make({ address, groups: ["default"], weight: 1 })
  const storage = {
    getRunners: Effect.sync(() => (state.reads++, [[runner, state.healthy] as const])),
    setRunnerHealth: (_: RunnerAddress.RunnerAddress, healthy: boolean) => Effect.sync(() => void (state.healthy = healthy))
  } as unknown as RunnerStorage.RunnerStorage["Type"]
  return { state, address, storage }
}

const sleep = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

describe("sharedRunnerReads", () => {
  it.live("answers a read within its window from the last one, and reads again once the window passed", () =>
    Effect.gen(function* () {
      const { state, storage } = countingStorage()
      const shared = sharedRunnerReads(storage, 200)
      yield* shared.getRunners
      yield* shared.getRunners
      expect(state.reads).toBe(1)
      yield* sleep(250)
      yield* shared.getRunners
      expect(state.reads).toBe(2)
    })
  )

  it.live("a write through it drops the kept read: the next read sees the change", () =>
    Effect.gen(function* () {
      const { state, address, storage } = countingStorage()
      const shared = sharedRunnerReads(storage, 60_000)
      expect((yield* shared.getRunners)[0]![1]).toBe(true)
      yield* shared.setRunnerHealth(address, false)
      expect((yield* shared.getRunners)[0]![1]).toBe(false)
      expect(state.reads).toBe(2)
    })
  )

  it.live("a read in flight while a write begins is not kept: the next read goes to the storage", () =>
    Effect.gen(function* () {
      const { state, address, storage } = countingStorage()
      const gate = yield* Deferred.make<void>()
      const slow = { ...storage, getRunners: Effect.zipRight(Deferred.await(gate), storage.getRunners) } as typeof storage
      const shared = sharedRunnerReads(slow, 60_000)
      const inFlight = yield* Effect.fork(shared.getRunners)
      yield* sleep(20)
      yield* shared.setRunnerHealth(address, false)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(inFlight)
      expect((yield* shared.getRunners)[0]![1]).toBe(false)
      expect(state.reads).toBe(2)
    })
  )

  it.live("a read that begins during a write and ends after it is not kept", () =>
    Effect.gen(function* () {
      const { state, address, storage } = countingStorage()
      const writeGate = yield* Deferred.make<void>()
      const readGate = yield* Deferred.make<void>()
      const slow = {
        ...storage,
        getRunners: Effect.zipRight(Deferred.await(readGate), storage.getRunners),
        setRunnerHealth: (at: RunnerAddress.RunnerAddress, healthy: boolean) => Effect.zipRight(Deferred.await(writeGate), storage.setRunnerHealth(at, healthy))
      } as typeof storage
      const shared = sharedRunnerReads(slow, 60_000)
      const write = yield* Effect.fork(shared.setRunnerHealth(address, false))
      yield* sleep(20)
      const read = yield* Effect.fork(shared.getRunners)
      yield* sleep(20)
      yield* Deferred.succeed(writeGate, undefined)
      yield* Fiber.join(write)
      yield* Deferred.succeed(readGate, undefined)
      yield* Fiber.join(read)
      yield* shared.getRunners
      expect(state.reads).toBe(2)
    })
  )
})
