import { it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted } from "effect"
import { describe, expect } from "vitest"
import { AgentConfigBatcher, AgentConfigBatcherLive, type HoldLimits } from "../../src/agents/AgentConfigBatcher.ts"
import { GatewayClientLive, type GatewayTarget } from "../../src/gateway/GatewayClient.ts"
import { startGatewaySimulator, type SimulatorOptions } from "../support/simulator/GatewaySimulator.ts"

const every = (minutes: number) => ({ every: `${minutes}m`, target: "none" })

/** A simulator whose agent-0 and agent-1 run a 30m heartbeat, the live client, and a batcher with a `windowMs` window. */
const harness = (windowMs: number, options: SimulatorOptions = {}, hold?: HoldLimits) =>
  Effect.gen(function* () {
    const sim = yield* Effect.acquireRelease(Effect.promise(() => startGatewaySimulator(options)), (s) => Effect.promise(() => s.stop()))
    const context = yield* Layer.build(
      AgentConfigBatcherLive(windowMs, hold).pipe(
        Layer.provideMerge(GatewayClientLive({ callTimeoutMs: 5_000, handshakeTimeoutMs: 2_000, clientVersion: "0.0.0-test" }))
      )
    )
    const target: GatewayTarget = { id: "gw-1", url: sim.url, token: Redacted.make(sim.token) }
    const agentIds = ["agent-0", "agent-1"]
    sim.state.config["agents"] = {
      entries: Object.fromEntries(agentIds.map((id) => [id, { name: `Agent ${id}`, identity: { name: `Agent ${id}` }, heartbeat: every(30), workspace: `/srv/ws/${id}` }]))
    }
    const heartbeatOf = (agentId: string) => (sim.state.config["agents"] as { entries: Record<string, { heartbeat?: unknown }> }).entries[agentId]?.heartbeat
    const withBatcher = <A, E>(use: (batcher: AgentConfigBatcher["Type"]) => Effect.Effect<A, E>) => Effect.flatMap(AgentConfigBatcher, use).pipe(Effect.provide(context))
    /** An update's request (a template sync's: quick batch first). */
    const update = (agentId: string, minutes: number) =>
      withBatcher((batcher) => batcher.setThenReadBack(target, agentId, { name: `Agent ${agentId}`, heartbeat: every(minutes) }, { unchangedLikely: true }))
    const set = (agentId: string, minutes: number) => withBatcher((batcher) => batcher.set(target, agentId, { name: `Agent ${agentId}`, heartbeat: every(minutes) }))
    const preparing = <A>(steps: Effect.Effect<A>) => withBatcher((batcher) => batcher.preparing("gw-1", steps))
    /** Waits until the simulator has received `n` calls of `method`. */
    const received = (method: string, n = 1): Effect.Effect<void> =>
      Effect.suspend(() => (sim.countOf(method) >= n ? Effect.void : Effect.zipRight(Effect.sleep("2 millis"), received(method, n)))).pipe(Effect.timeout("3 seconds"), Effect.orDie)
    return { sim, update, set, preparing, heartbeatOf, received }
  })

describe("AgentConfigBatcher: withdrawn and superseded requests (docs/architecture.md §5.6)", () => {
  it.scopedLive("an apply interrupted while its quick check reads is never written after the newer apply that took over", () =>
    Effect.gen(function* () {
      const { sim, update, heartbeatOf, received } = yield* harness(20, { latencyMs: 120 })
      // Apply 1: 30m -> 10m. Its quick check's config.get is on the wire when apply 2 (back to 30m) interrupts it.
      const first = yield* Effect.fork(update("agent-0", 10))
      yield* received("config.get")
      yield* Fiber.interrupt(first)
      expect((yield* update("agent-0", 30)).changed).toBe(false)
      yield* Effect.sleep("600 millis")
      expect(sim.countOf("config.patch")).toBe(0)
      expect(heartbeatOf("agent-0")).toEqual(every(30))
    })
  )

  it.scopedLive("for one agent the latest request is written, though an older one is passed on to the full batch after it", () =>
    Effect.gen(function* () {
      const { update, set, heartbeatOf, received } = yield* harness(400, { latencyMs: 60 })
      // The older request (10m) is in a quick check's read while the newer one (30m) joins the full batch.
      const older = yield* Effect.fork(update("agent-0", 10))
      yield* received("config.get")
      const newer = yield* Effect.fork(set("agent-0", 30))
      yield* Fiber.join(older)
      yield* Fiber.join(newer)
      expect(heartbeatOf("agent-0")).toEqual(every(30))
    })
  )

  it.scopedLive("a quick check does not answer for an agent whose older request is still to be written", () =>
    Effect.gen(function* () {
      const { update, set, heartbeatOf } = yield* harness(300)
      // The older request (10m) waits in the full batch's window; the newer (30m) is what the file holds now.
      const older = yield* Effect.fork(set("agent-0", 10))
      yield* Effect.sleep("20 millis")
      const newer = yield* update("agent-0", 30)
      yield* Fiber.join(older)
      yield* newer.readBack
      expect(heartbeatOf("agent-0")).toEqual(every(30))
    })
  )

  it.scopedLive("when every waiter withdrew, neither batch sends anything", () =>
    Effect.gen(function* () {
      const { sim, update, set } = yield* harness(20)
      const quick = yield* Effect.fork(update("agent-0", 10))
      const full = yield* Effect.fork(set("agent-1", 10))
      yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(quick)
      yield* Fiber.interrupt(full)
      yield* Effect.sleep("200 millis")
      expect([sim.countOf("health"), sim.countOf("config.get"), sim.countOf("config.patch")]).toEqual([0, 0, 0])
    })
  )
})

describe("AgentConfigBatcher: a passed-on entry is not held for other agents' preparation", () => {
  it.scopedLive("an update whose entry differs is patched about a window after its check while a sync's other places keep preparing", () =>
    Effect.gen(function* () {
      const { sim, update, preparing, heartbeatOf } = yield* harness(50, {}, { stallMs: 2_000, maxMs: 4_000 })
      // Other places: each preparation ends within 100 ms and the next begins, so progress never stalls.
      const cycling: Effect.Effect<void> = Effect.zipRight(preparing(Effect.sleep("100 millis")), Effect.suspend(() => cycling))
      yield* Effect.fork(Effect.all([cycling, Effect.zipRight(Effect.sleep("50 millis"), cycling)], { concurrency: "unbounded" }))
      const started = Date.now()
      expect((yield* update("agent-0", 10)).changed).toBe(true)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(heartbeatOf("agent-0")).toEqual(every(10))
      expect(sim.countOf("config.patch")).toBe(1)
    })
  )
})
