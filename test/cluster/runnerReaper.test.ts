import { Runner, RunnerAddress, RunnerHealth, RunnerStorage } from "@effect/cluster"
import { describe, expect, it } from "@effect/vitest"
import { withHandClocks } from "../support/handClocks.ts"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { addressText } from "../../src/cluster/GatewayOwnership.ts"
import { FENCE_FALLBACK_MS, fencePeriodMs, fenceStaleRunnersPass, reapUnreachableRunners } from "../../src/cluster/RunnerReaper.ts"

/**
 * The engine's storage reduced to what the reaper uses (runners and their health, in memory), and
 * a ping that answers only for the addresses in `reachable`. Any other storage method dies.
 */
const cluster = (runners: Record<string, boolean>, reachable: ReadonlyArray<string>) => {
  const health = new Map(Object.entries(runners))
  const runnerOf = (text: string) => {
    const [host, port] = text.split(":")
    return Runner.make({ address: RunnerAddress.make(host!, Number(port)), groups: ["default"], weight: 1 })
  }
  const reads = { runners: 0, fences: 0 }
  const storage = new Proxy(
    {
      getRunners: Effect.sync(() => (reads.runners++, [...health].map(([address, healthy]) => [runnerOf(address), healthy] as const))),
      setRunnerHealth: (address: RunnerAddress.RunnerAddress, healthy: boolean) => Effect.sync(() => void health.set(addressText(address), healthy))
    },
    { get: (target, key) => (key in target ? target[key as keyof typeof target] : () => Effect.die(`RunnerStorage.${String(key)} is not stubbed`)) }
  ) as unknown as RunnerStorage.RunnerStorage["Type"]
  // The fence's one statement (sessions to terminate): none here, counted.
  const sql = Object.assign(() => Effect.sync(() => (reads.fences++, [])), { in: (values: ReadonlyArray<unknown>) => values }) as unknown as SqlClient.SqlClient
  const layer = Layer.mergeAll(
    Layer.succeed(RunnerStorage.RunnerStorage, storage),
    Layer.succeed(RunnerHealth.RunnerHealth, { isAlive: (address) => Effect.succeed(reachable.includes(addressText(address))) }),
    Layer.succeed(SqlClient.SqlClient, sql)
  )
  return { health, reads, layer }
}

describe("reapUnreachableRunners", () => {
  it.effect("marks an unreachable runner unhealthy while another runner stays healthy (a SIGKILLed peer)", () => {
    const { health, layer } = cluster({ "10.0.0.1:1": true, "10.0.0.2:1": true }, [])
    return Effect.gen(function* () {
      yield* reapUnreachableRunners("10.0.0.1:1")
      expect(Object.fromEntries(health)).toEqual({ "10.0.0.1:1": true, "10.0.0.2:1": false })
    }).pipe(Effect.provide(layer))
  })

  it.effect("never marks the last healthy runner unhealthy (this runner is stored unhealthy and reaches no one)", () => {
    const { health, layer } = cluster({ "10.0.0.1:1": false, "10.0.0.2:1": true }, [])
    return Effect.gen(function* () {
      yield* reapUnreachableRunners("10.0.0.1:1")
      expect(health.get("10.0.0.2:1")).toBe(true)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a runner stored unhealthy that reaches the database but not its peers marks none of them unhealthy", () => {
    const { health, layer } = cluster({ "10.0.0.1:1": false, "10.0.0.2:1": true, "10.0.0.3:1": true }, [])
    return Effect.gen(function* () {
      yield* reapUnreachableRunners("10.0.0.1:1")
      expect(Object.fromEntries(health)).toEqual({ "10.0.0.1:1": false, "10.0.0.2:1": true, "10.0.0.3:1": true })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a runner whose own record is missing marks no one unhealthy: the others are never all marked", () => {
    const { health, layer } = cluster({ "10.0.0.2:1": true, "10.0.0.3:1": true }, [])
    return Effect.gen(function* () {
      yield* reapUnreachableRunners("10.0.0.1:1")
      expect(Object.fromEntries(health)).toEqual({ "10.0.0.2:1": true, "10.0.0.3:1": true })
    }).pipe(Effect.provide(layer))
  })

  it.effect("marks an unhealthy runner that answers again healthy, even from a runner stored unhealthy", () => {
    const { health, layer } = cluster({ "10.0.0.1:1": false, "10.0.0.2:1": false }, ["10.0.0.2:1"])
    return Effect.gen(function* () {
      yield* reapUnreachableRunners("10.0.0.1:1")
      expect(health.get("10.0.0.2:1")).toBe(true)
    }).pipe(Effect.provide(layer))
  })
})

describe("fenceStaleRunnersPass", () => {
  it.effect("reads the runners once and fences, without pinging anyone", () => {
    const { health, reads, layer } = cluster({ "10.0.0.1:1": true, "10.0.0.2:1": true }, [])
    // A ping of any peer hangs: the fence must not wait for it.
    const hung = Layer.succeed(RunnerHealth.RunnerHealth, { isAlive: () => Effect.never })
    return Effect.gen(function* () {
      yield* fenceStaleRunnersPass("10.0.0.1:1", 35_000)
      expect(reads).toEqual({ runners: 1, fences: 1 })
      expect(health.get("10.0.0.2:1")).toBe(true)
    }).pipe(Effect.provide(Layer.merge(layer, hung)))
  })

  it.effect("sends its statement on the first pass, on every pass for an expiry after a runner left the list, and otherwise once per FENCE_FALLBACK_MS", () => {
    const { health, reads, layer } = cluster({ "10.0.0.1:1": true, "10.0.0.2:1": true, "10.0.0.3:1": true }, [])
    const clock = { now: 1_000_000 }
    const expiry = 35_000
    return Effect.gen(function* () {
      const fence = fenceStaleRunnersPass("10.0.0.1:1", expiry, () => clock.now)
      /** Runs passes 4 s apart for `ms`; answers how many sent the statement. */
      const passes = (ms: number) =>
        Effect.gen(function* () {
          const before = reads.fences
          for (let elapsed = 0; elapsed < ms; elapsed += 4_000) {
            yield* fence
            clock.now += 4_000
          }
          return reads.fences - before
        })
      expect(yield* passes(4_000)).toBe(1)
      // Settled: one statement per fallback period, though every pass reads the runners.
      expect(yield* passes(FENCE_FALLBACK_MS)).toBe(1)
      // A hung runner leaves the list (its heartbeat expired): fenced on that very pass, and on every pass for an expiry.
      health.delete("10.0.0.3:1")
      const runnerReads = reads.runners
      expect(yield* passes(4_000)).toBe(1)
      expect(yield* passes(expiry - 4_000)).toBe(Math.ceil((expiry - 4_000) / 4_000))
      expect(reads.runners - runnerReads).toBe(1 + Math.ceil((expiry - 4_000) / 4_000))
      // Quiet again.
      expect(yield* passes(FENCE_FALLBACK_MS - 8_000)).toBeLessThanOrEqual(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("by default measures its fallback on the monotonic clock: a step of the wall clock neither stalls nor hastens the statement", () => {
    const { reads, layer } = cluster({ "10.0.0.1:1": true, "10.0.0.2:1": true }, [])
    return withHandClocks((clocks) => Effect.gen(function* () {
      const fence = fenceStaleRunnersPass("10.0.0.1:1", 35_000)
      yield* fence
      // An hour back, then a day forward, on the wall clock: still within the fallback.
      clocks.wall -= 3_600_000
      clocks.monotonic += 4_000
      yield* fence
      clocks.wall += 86_400_000
      clocks.monotonic += 4_000
      yield* fence
      expect(reads.fences).toBe(1)
      clocks.monotonic += FENCE_FALLBACK_MS
      yield* fence
      expect(reads.fences).toBe(2)
    })).pipe(Effect.provide(layer))
  })

  it("fences every 2 s pass when the lock expiry is short, every 4 s at the default 35 s, and at least every 5 s", () => {
    expect(fencePeriodMs(5_000, 2_000)).toBe(2_000)
    expect(fencePeriodMs(35_000, 2_000)).toBe(4_000)
    expect(fencePeriodMs(600_000, 2_000)).toBe(4_000)
    expect(fencePeriodMs(600_000, 1_000)).toBe(5_000)
  })
})
