import { it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Redacted } from "effect"
import { describe, expect } from "vitest"
import { AgentConfigBatcher, AgentConfigBatcherLive, type HoldLimits } from "../../src/agents/AgentConfigBatcher.ts"
import { GatewayClientLive, type GatewayTarget } from "../../src/gateway/GatewayClient.ts"
import { startGatewaySimulator, type GatewaySimulator, type SimulatorOptions } from "../support/simulator/GatewaySimulator.ts"

const TEN_MINUTES = { every: "10m", target: "none" } as const

/** A simulator, the live client, and a batcher with a `windowMs` window (and `hold` limits, else the service's). */
const harness = (windowMs: number, options: SimulatorOptions = {}, hold?: HoldLimits, configReadMaxAgeMs?: number) =>
  Effect.gen(function* () {
    const sim = yield* Effect.acquireRelease(Effect.promise(() => startGatewaySimulator(options)), (s) => Effect.promise(() => s.stop()))
    const context = yield* Layer.build(
      AgentConfigBatcherLive(windowMs, hold, configReadMaxAgeMs).pipe(
        Layer.provideMerge(GatewayClientLive({ callTimeoutMs: 5_000, handshakeTimeoutMs: 2_000, clientVersion: "0.0.0-test" }))
      )
    )
    const target: GatewayTarget = { id: "gw-1", url: sim.url, token: Redacted.make(sim.token) }
    /** Agents exist on the gateway before their entry is set (agents.create writes it). */
    const seed = (agentIds: ReadonlyArray<string>) => {
      const agents = (sim.state.config["agents"] ?? {}) as { entries?: Record<string, unknown> }
      agents.entries = { ...agents.entries, ...Object.fromEntries(agentIds.map((id) => [id, { name: id, workspace: `/srv/ws/${id}` }])) }
      sim.state.config["agents"] = agents
    }
    const set = (agentId: string, heartbeat: { every: string; target: string } = TEN_MINUTES) =>
      Effect.flatMap(AgentConfigBatcher, (batcher) => batcher.set(target, agentId, { name: `Agent ${agentId}`, heartbeat })).pipe(
        Effect.provide(context)
      )
    const setMany = (ids: ReadonlyArray<string>, heartbeat?: { every: string; target: string }) =>
      Effect.all(ids.map((id) => set(id, heartbeat)), { concurrency: "unbounded" })
    seed([...ids(50), ...ids(10, "early"), ...ids(10, "late"), "same", "other"])
    const entries = () =>
      ((sim.state.config["agents"] as { entries?: Record<string, { name?: string; identity?: { name?: string }; heartbeat?: unknown }> } | undefined)
        ?.entries ?? {})
    const preparing = <A>(effect: Effect.Effect<A>) =>
      Effect.flatMap(AgentConfigBatcher, (batcher) => batcher.preparing("gw-1", effect)).pipe(Effect.provide(context))
    /** The agents' entries already hold what `set` asks (name and heartbeat), as after an earlier apply. */
    const holding = (agentIds: ReadonlyArray<string>) => {
      const agents = sim.state.config["agents"] as { entries: Record<string, unknown> }
      for (const id of agentIds) agents.entries[id] = { name: `Agent ${id}`, identity: { name: `Agent ${id}` }, heartbeat: TEN_MINUTES, workspace: `/srv/ws/${id}` }
    }
    const update = (agentId: string) =>
      Effect.flatMap(AgentConfigBatcher, (batcher) =>
        batcher.setThenReadBack(target, agentId, { name: `Agent ${agentId}`, heartbeat: TEN_MINUTES }, { unchangedLikely: true })
      ).pipe(Effect.provide(context))
    return { sim, set, setMany, entries, preparing, seed, holding, update }
  })

const ids = (n: number, prefix = "agent") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)

describe("AgentConfigBatcher", () => {
  it.scopedLive("fifty agents at once become one config.patch, and a repeat writes nothing", () =>
    Effect.gen(function* () {
      const { sim, setMany, entries } = yield* harness(50)
      expect(yield* setMany(ids(50))).toEqual(Array(50).fill(true))
      expect(sim.countOf("config.patch")).toBe(1)
      expect(Object.keys(entries()).filter((id) => id.startsWith("agent-"))).toHaveLength(50)
      expect(entries()["agent-7"]).toMatchObject({ name: "Agent agent-7", identity: { name: "Agent agent-7" }, heartbeat: TEN_MINUTES })

      expect(yield* setMany(ids(50))).toEqual(Array(50).fill(false))
      expect(sim.countOf("config.patch")).toBe(1)
    })
  )

  it.scopedLive("patches only the entries that differ, and says which changed", () =>
    Effect.gen(function* () {
      const { sim, set, setMany } = yield* harness(30)
      yield* set("same")
      const [unchanged, changed] = yield* Effect.all([set("same"), set("other", { every: "5m", target: "none" })], { concurrency: "unbounded" })
      expect([unchanged, changed]).toEqual([false, true])
      const last = sim.calls.filter((call) => call.method === "config.patch").at(-1)?.params as { raw: string }
      expect(Object.keys(JSON.parse(last.raw).agents.entries)).toEqual(["other"])
      expect(yield* setMany(["other"], { every: "5m", target: "none" })).toEqual([false])
    })
  )

  it.scopedLive("gathers requests that arrive while a patch is under way into the next batch", () =>
    Effect.gen(function* () {
      const { sim, setMany } = yield* harness(20, { configPatchDelayMs: 150 })
      const first = yield* Effect.fork(setMany(ids(10, "early")))
      yield* Effect.sleep("80 millis")
      const second = yield* setMany(ids(10, "late"))
      expect(second).toEqual(Array(10).fill(true))
      expect((yield* first)).toEqual(Array(10).fill(true))
      expect(sim.countOf("config.patch")).toBe(2)
    })
  )

  it.scopedLive("holds a batch while agents on the gateway are still preparing, then patches once", () =>
    Effect.gen(function* () {
      const { sim, set, preparing, seed } = yield* harness(20)
      seed(["early", "late"])
      const creating = yield* Effect.fork(preparing(Effect.sleep("300 millis")))
      const early = yield* Effect.fork(set("early"))
      yield* Effect.sleep("150 millis")
      expect(sim.countOf("config.patch")).toBe(0)
      const late = yield* Effect.fork(set("late"))
      yield* creating
      expect(yield* early).toBe(true)
      expect(yield* late).toBe(true)
      expect(sim.countOf("config.patch")).toBe(1)
    })
  )

  it.scopedLive("closes a batch as soon as every agent that was preparing has asked, without waiting out the window", () =>
    Effect.gen(function* () {
      const { sim, set, preparing, seed } = yield* harness(5_000)
      seed(["one", "two", "three"])
      const started = Date.now()
      // As applyAgent: each agent prepares (30, 60, 90 ms), then asks at once.
      const asked = yield* Effect.all(
        ["one", "two", "three"].map((id, i) => Effect.zipRight(preparing(Effect.sleep(`${30 * (i + 1)} millis`)), set(id))),
        { concurrency: "unbounded" }
      )
      expect(asked).toEqual([true, true, true])
      expect(sim.countOf("config.patch")).toBe(1)
      expect(Date.now() - started).toBeLessThan(2_500)
    })
  )

  it.scopedLive("an agent whose preparation hangs holds the others' batch only until progress stalls", () =>
    Effect.gen(function* () {
      const { sim, set, preparing, seed } = yield* harness(20, {}, { stallMs: 400, maxMs: 60_000 })
      seed(["early", "late"])
      // One agent's create never answers; another finishes its preparation now and then.
      yield* Effect.fork(preparing(Effect.never))
      const started = Date.now()
      const healthy = yield* Effect.fork(preparing(Effect.sleep("300 millis")))
      const early = yield* Effect.fork(set("early"))
      yield* healthy
      // Still held: the healthy preparation finished under 400 ms ago.
      yield* Effect.sleep("200 millis")
      expect(sim.countOf("config.patch")).toBe(0)
      expect(yield* early).toBe(true)
      const held = Date.now() - started
      expect(held).toBeGreaterThanOrEqual(650)
      expect(held).toBeLessThan(2_000)
      expect(sim.countOf("config.patch")).toBe(1)
      // The next batch is held by the hung one alone, at most stallMs.
      const again = Date.now()
      expect(yield* set("late")).toBe(true)
      expect(Date.now() - again).toBeLessThan(1_500)
    })
  )

  it.scopedLive("updates whose entries hold send their read-back beside the batch's config.get", () =>
    Effect.gen(function* () {
      const { sim, holding, update } = yield* harness(20)
      holding(ids(3))
      sim.inject({ method: "config.get", hang: true })
      const hung = yield* Effect.fork(Effect.all(ids(3).map(update), { concurrency: "unbounded" }))
      // The config.get never answers, yet the batch's health read is already out.
      const sent = (): Effect.Effect<void> =>
        Effect.suspend(() => (sim.countOf("health") >= 1 ? Effect.void : Effect.zipRight(Effect.sleep("5 millis"), sent())))
      yield* sent().pipe(Effect.timeout("3 seconds"), Effect.orDie)
      yield* Fiber.interrupt(hung)
    })
  )

  it.scopedLive("updates whose entries hold share that one read-back", () =>
    Effect.gen(function* () {
      const { sim, holding, update } = yield* harness(20)
      holding(ids(3))
      const before = sim.countOf("health")
      const outcomes = yield* Effect.all(ids(3).map(update), { concurrency: "unbounded" })
      expect(outcomes.map((outcome) => outcome.changed)).toEqual([false, false, false])
      yield* Effect.all(outcomes.map((outcome) => outcome.readBack))
      expect(sim.countOf("health") - before).toBe(1)
      expect(sim.countOf("config.patch")).toBe(0)
    })
  )

  it.scopedLive("updates whose entries hold are answered after a short read, not held by the window or by agents still preparing", () =>
    Effect.gen(function* () {
      const { sim, holding, update, preparing } = yield* harness(5_000)
      holding(ids(3))
      // Another agent of the gateway never finishes preparing: a full batch would wait out its window, then hold.
      yield* Effect.fork(preparing(Effect.never))
      const started = Date.now()
      const outcomes = yield* Effect.all(ids(3).map(update), { concurrency: "unbounded" })
      expect(outcomes.map((outcome) => outcome.changed)).toEqual([false, false, false])
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(sim.countOf("config.get")).toBe(1)
      expect(sim.countOf("config.patch")).toBe(0)
    })
  )

  describe("the quick check's kept config read (docs/architecture.md §5.6)", () => {
    const updates = (update: (id: string) => Effect.Effect<{ readonly changed: boolean }, unknown>, agentIds: ReadonlyArray<string>) =>
      Effect.map(Effect.all(agentIds.map(update), { concurrency: "unbounded" }), (outcomes) => outcomes.map((outcome) => outcome.changed))
    /** Two batches for agent-0: the first opens the socket (a read made before it was up is not kept), the second's read is kept. */
    const kept = (sim: GatewaySimulator, update: (id: string) => Effect.Effect<{ readonly changed: boolean }, unknown>) =>
      Effect.gen(function* () {
        expect(yield* updates(update, ["agent-0"])).toEqual([false])
        expect(yield* updates(update, ["agent-0"])).toEqual([false])
        return sim.countOf("config.get")
      })

    it.scopedLive("a second quick batch is answered from the first one's read: its health read, no config.get", () =>
      Effect.gen(function* () {
        const { sim, holding, update } = yield* harness(20)
        holding(ids(7))
        // The first batch opens the socket: a read made before the socket was up is not kept.
        expect(yield* updates(update, ["agent-6"])).toEqual([false])
        const [gets, healths] = [sim.countOf("config.get"), sim.countOf("health")]
        expect(yield* updates(update, ids(3))).toEqual([false, false, false])
        expect(yield* updates(update, ids(6).slice(3))).toEqual([false, false, false])
        expect(sim.countOf("config.get") - gets).toBe(1)
        expect(sim.countOf("health") - healths).toBe(2)
        expect(sim.countOf("config.patch")).toBe(0)
      })
    )

    it.scopedLive("a config.changed before the batch's health answer makes it read again", () =>
      Effect.gen(function* () {
        const { sim, holding, update } = yield* harness(20, { handEditNoticeMs: 0 })
        holding(ids(2))
        const gets = yield* kept(sim, update)
        // Another client's write, told as config.changed: agent-1's entry now differs.
        sim.editConfigFile((config) => {
          ;(config["agents"] as { entries: Record<string, { heartbeat: unknown }> }).entries["agent-1"]!.heartbeat = { every: "20m", target: "none" }
        })
        expect(yield* updates(update, ["agent-1"])).toEqual([true])
        expect(sim.countOf("config.get")).toBeGreaterThan(gets)
        expect((sim.state.config["agents"] as { entries: Record<string, { heartbeat: unknown }> }).entries["agent-1"]?.heartbeat).toEqual(TEN_MINUTES)
      })
    )

    it.scopedLive("an entry edited by hand is seen once the gateway tells of the edit", () =>
      Effect.gen(function* () {
        const { sim, holding, update } = yield* harness(20, { handEditNoticeMs: 150 })
        holding(ids(2))
        const gets = yield* kept(sim, update)
        sim.editConfigFile((config) => {
          ;(config["agents"] as { entries: Record<string, { heartbeat: unknown }> }).entries["agent-1"]!.heartbeat = { every: "20m", target: "none" }
        })
        yield* Effect.sleep("300 millis")
        expect(yield* updates(update, ["agent-1"])).toEqual([true])
      })
    )

    it.scopedLive("a new socket makes it read again", () =>
      Effect.gen(function* () {
        const { sim, holding, update } = yield* harness(20)
        holding(ids(2))
        const gets = yield* kept(sim, update)
        sim.closeAll(1012, "service restart")
        // Changed while no socket was open: no event can tell of it.
        ;(sim.state.config["agents"] as { entries: Record<string, { heartbeat: unknown }> }).entries["agent-1"]!.heartbeat = { every: "20m", target: "none" }
        expect(yield* updates(update, ["agent-1"])).toEqual([true])
        expect(sim.countOf("config.get")).toBeGreaterThan(gets)
      })
    )

    it.scopedLive("a change never told (an event the gateway dropped) is seen once the kept read is older than its bound", () =>
      Effect.gen(function* () {
        const { sim, holding, update } = yield* harness(20, {}, undefined, 300)
        holding(ids(2))
        const gets = yield* kept(sim, update)
        ;(sim.state.config["agents"] as { entries: Record<string, { heartbeat: unknown }> }).entries["agent-1"]!.heartbeat = { every: "20m", target: "none" }
        yield* Effect.sleep("400 millis")
        expect(yield* updates(update, ["agent-1"])).toEqual([true])
      })
    )

    it.scopedLive("a failed health read makes the batch read config.get, not answer from the kept read", () =>
      Effect.gen(function* () {
        const { sim, holding, update } = yield* harness(20)
        holding(ids(2))
        const gets = yield* kept(sim, update)
        // Changed with no event (as a dropped one), while the batch's health read fails.
        ;(sim.state.config["agents"] as { entries: Record<string, { heartbeat: unknown }> }).entries["agent-1"]!.heartbeat = { every: "20m", target: "none" }
        sim.inject({ method: "health", error: { code: "INVALID_REQUEST", message: "refused", retryable: false } })
        expect(yield* updates(update, ["agent-1"])).toEqual([true])
        expect(sim.countOf("config.get")).toBeGreaterThan(gets)
      })
    )

    it.scopedLive("our own patch voids the kept read (its config.changed comes before its answer)", () =>
      Effect.gen(function* () {
        const { sim, holding, update, set } = yield* harness(20)
        holding(ids(2))
        const gets = yield* kept(sim, update)
        expect(yield* set("agent-0", { every: "30m", target: "none" })).toBe(true)
        const afterPatch = sim.countOf("config.get")
        expect(afterPatch).toBeGreaterThan(gets)
        expect(yield* updates(update, ["agent-0"])).toEqual([true])
        expect(sim.countOf("config.get")).toBeGreaterThan(afterPatch)
      })
    )
  })

  it.scopedLive("an update whose entry is not in the file yet (its create is still to come) is patched by the full batch", () =>
    Effect.gen(function* () {
      const { sim, update, seed, entries } = yield* harness(300)
      const asked = yield* Effect.fork(update("fresh"))
      // The quick read finds no entry; then the agent's create writes one, before the full batch's window closes.
      const read = (): Effect.Effect<void> => Effect.suspend(() => (sim.countOf("config.get") >= 1 ? Effect.void : Effect.zipRight(Effect.sleep("5 millis"), read())))
      yield* read().pipe(Effect.timeout("3 seconds"), Effect.orDie)
      seed(["fresh"])
      expect((yield* Fiber.join(asked)).changed).toBe(true)
      expect(entries()["fresh"]).toMatchObject({ name: "Agent fresh", heartbeat: TEN_MINUTES })
      expect(sim.countOf("config.patch")).toBe(1)
    })
  )

  it.scopedLive("an update whose entry changed reads back after its patch", () =>
    Effect.gen(function* () {
      const { sim, update } = yield* harness(20)
      const outcome = yield* update("agent-0")
      expect(outcome.changed).toBe(true)
      yield* outcome.readBack
      const lastHealth = sim.calls.findLastIndex((call) => call.method === "health")
      expect(lastHealth).toBeGreaterThan(sim.calls.findIndex((call) => call.method === "config.patch"))
    })
  )

  it.scopedLive("re-reads and re-applies after a stale baseHash", () =>
    Effect.gen(function* () {
      const { sim, setMany, entries } = yield* harness(20)
      sim.inject({ method: "config.patch", error: { code: "INVALID_REQUEST", message: "config changed since last load; re-run config.get and retry" } })
      expect(yield* setMany(ids(3))).toEqual([true, true, true])
      expect(sim.countOf("config.get")).toBe(2)
      expect(sim.countOf("config.patch")).toBe(2)
      expect(entries()["agent-2"]?.heartbeat).toEqual(TEN_MINUTES)
    })
  )

  it.scopedLive("waits out the gateway's rate limit (retryAfterMs) instead of failing", () =>
    Effect.gen(function* () {
      const { sim, setMany } = yield* harness(20)
      sim.inject({
        method: "config.patch",
        error: { code: "UNAVAILABLE", message: "rate limit exceeded for config.patch; retry after 1s", retryable: true, retryAfterMs: 400 }
      })
      const started = Date.now()
      expect(yield* setMany(ids(2))).toEqual([true, true])
      expect(Date.now() - started).toBeGreaterThanOrEqual(400)
      expect(sim.countOf("config.patch")).toBe(2)
    })
  )

  it.scopedLive("never re-adds the entry of an agent that is no longer on the gateway", () =>
    Effect.gen(function* () {
      const { sim, setMany, entries } = yield* harness(20)
      expect(yield* setMany(["ghost", "agent-1"])).toEqual([false, true])
      expect(entries()["ghost"]).toBeUndefined()
      expect(sim.countOf("config.patch")).toBe(1)
    })
  )

  it.scopedLive("after a refusal each entry is tried alone, so one bad entry does not fail its neighbours", () =>
    Effect.gen(function* () {
      const { sim, setMany } = yield* harness(20)
      sim.inject({ method: "config.patch", error: { code: "INVALID_REQUEST", message: 'invalid config: agents.entries.agent-0.heartbeat: Invalid input' } })
      expect(yield* setMany(ids(3))).toEqual([true, true, true])
      expect(sim.countOf("config.patch")).toBe(4)
    })
  )

  it.scopedLive("a terminal refusal of every entry fails each request with the typed error", () =>
    Effect.gen(function* () {
      const h = yield* harness(20)
      h.sim.inject({ method: "config.patch", times: 10, error: { code: "INVALID_REQUEST", message: 'invalid config: agents.entries: Unrecognized key: "x"' } })
      const outcomes = yield* Effect.all(
        ids(3).map((id) => Effect.either(h.set(id))),
        { concurrency: "unbounded" }
      )
      for (const outcome of outcomes) {
        expect(Either.isLeft(outcome)).toBe(true)
        if (Either.isLeft(outcome)) expect(outcome.left).toMatchObject({ _tag: "GatewayRpcError", kind: "invalid_request" })
      }
    })
  )
})
