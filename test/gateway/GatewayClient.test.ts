import { fileURLToPath } from "node:url"
import { readFileSync } from "node:fs"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Redacted, Stream } from "effect"
import { describe, expect } from "vitest"
import { WebSocketServer } from "ws"
import { CONNECTION_EVENT, makeGatewayClient, type GatewayEvent, type GatewayTarget } from "../../src/gateway/GatewayClient.ts"
import {
  GatewayConnectionError,
  GatewayPairingRequired,
  GatewayProtocolError,
  GatewayRpcError,
  GatewayTimeoutError,
  isGatewayError,
  isTransient,
  rpcError,
  type GatewayError
} from "../../src/gateway/GatewayError.ts"
import { ErrorShape, RequestFrame } from "../../src/gateway/protocol.ts"
import { gatewayTransient } from "../../src/gateway/retryPolicies.ts"
import { startGatewaySimulator, type GatewaySimulator, type SimulatorOptions } from "../support/simulator/GatewaySimulator.ts"

const CLIENT_CONFIG = { callTimeoutMs: 2_000, handshakeTimeoutMs: 2_000, clientVersion: "0.0.0-test" }
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Polls `check` (no fixed sleeps); fails the test with vitest's message when it never holds. */
const poll = (check: () => boolean, timeout = 3_000) =>
  Effect.promise(() => expect.poll(check, { timeout, interval: 10 }).toBe(true))

const simulator = (options: SimulatorOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => startGatewaySimulator(options)),
    (sim) => Effect.promise(() => sim.stop())
  )

const targetFor = (sim: GatewaySimulator, id = "gw-1"): GatewayTarget => ({ id, url: sim.url, token: Redacted.make(sim.token) })

/** A simulator and a live client in the test's scope; the client's sockets close before the simulator stops. */
const setup = (options: SimulatorOptions = {}) =>
  Effect.gen(function* () {
    const sim = yield* simulator(options)
    const client = yield* makeGatewayClient(CLIENT_CONFIG)
    return { sim, client, target: targetFor(sim) }
  })

const retried = <A, R>(effect: Effect.Effect<A, GatewayError, R>) => effect.pipe(Effect.retry({ schedule: gatewayTransient, while: isTransient }))

/** The minimal hello-ok our HelloOk schema accepts. */
const HELLO = { type: "hello-ok", protocol: 4, server: { version: "fake" }, auth: { scopes: ["operator.read", "operator.write", "operator.admin"] }, policy: { tickIntervalMs: 30_000 } }

/** A gateway that handshakes correctly, then answers every request with `payload` (to test result decoding). */
const fakeGateway = (payload: unknown) =>
  Effect.acquireRelease(
    Effect.async<WebSocketServer>((resume) => {
      const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
      wss.on("listening", () => resume(Effect.succeed(wss)))
      wss.on("connection", (ws) => {
        ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: Date.now() } }))
        ws.on("message", (data) => {
          const frame = RequestFrame.safeParse(JSON.parse(String(data)))
          if (!frame.success) return
          const answer = frame.data.method === "connect" ? HELLO : payload
          ws.send(JSON.stringify({ type: "res", id: frame.data.id, ok: true, payload: answer }))
        })
      })
    }),
    (wss) =>
      Effect.async<void>((resume) => {
        for (const ws of wss.clients) ws.terminate()
        wss.close(() => resume(Effect.void))
      })
  )

describe("GatewayClient (against the simulator)", () => {
  it.scopedLive("shares one socket between 20 concurrent calls and decodes their results", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup({ latencyMs: 20 })
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () => client.call(target, "agents.list", {})),
        { concurrency: "unbounded" }
      )
      expect(results).toHaveLength(20)
      for (const result of results) {
        expect(result.defaultId).toBe("main")
        expect(result.agents.map((agent) => agent.id)).toEqual(["main"])
      }
      expect(sim.connectionsOpened).toBe(1)
      expect(sim.countOf("agents.list")).toBe(20)
      const stats = yield* client.stats
      expect(stats.socketsOpened).toBe(1)
      expect(stats.calls["agents.list"]).toBe(20)
      expect(yield* client.connect(target)).toMatchObject({ serverVersion: "2026.9.6", protocol: 4 })
      expect(sim.connectionsOpened).toBe(1)
    })
  )

  it.scopedLive("fails with GatewayProtocolError when a result does not match its zod schema", () =>
    Effect.gen(function* () {
      const wss = yield* fakeGateway({ agents: "not-an-array" })
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
      const error = yield* Effect.flip(client.call({ id: "fake", url, token: Redacted.make("t") }, "agents.list", {}))
      expect(error).toBeInstanceOf(GatewayProtocolError)
      expect(error).toMatchObject({ method: "agents.list" })
      expect(isTransient(error)).toBe(false)
    })
  )

  it.scopedLive("turns the simulator's ok:false answers into GatewayRpcError of the right kind", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup()
      const refused = <A>(effect: Effect.Effect<A, GatewayError>) => Effect.flip(effect)

      yield* client.call(target, "agents.create", { name: "probe-agent" })
      const exists = yield* refused(client.call(target, "agents.create", { name: "probe-agent" }))
      const notFound = yield* refused(client.call(target, "agents.update", { agentId: "does-not-exist", name: "x" }))
      const unsupported = yield* refused(client.call(target, "agents.files.set", { agentId: "main", name: "TASK_SOUL.md", content: "x" }))
      const soul = yield* client.call(target, "agents.files.get", { agentId: "main", name: "SOUL.md" })
      yield* client.call(target, "agents.files.set", { agentId: "main", name: "SOUL.md", content: "edited" })
      const fileConflict = yield* refused(
        client.call(target, "agents.files.set", { agentId: "main", name: "SOUL.md", content: "again", expectedHash: soul.file.hash })
      )
      const before = yield* client.call(target, "config.get", {})
      const patch = (every: string) => JSON.stringify({ agents: { entries: { main: { heartbeat: { every } } } } })
      yield* client.call(target, "config.patch", { raw: patch("5m"), baseHash: before.hash })
      const stale = yield* refused(client.call(target, "config.patch", { raw: patch("7m"), baseHash: before.hash }))
      const hashless = yield* refused(client.call(target, "config.patch", { raw: patch("9m") }))
      const mainSession = yield* refused(client.call(target, "sessions.delete", { key: "agent:main:main" }))
      const badParams = yield* refused(client.call(target, "agents.create", { name: "x", bogus: true }))
      sim.inject({ method: "health" })
      const unavailable = yield* refused(client.call(target, "health", {}))

      const cases: Array<[GatewayError, string, string]> = [
        [exists, "agents.create", "agent_exists"],
        [notFound, "agents.update", "agent_not_found"],
        [unsupported, "agents.files.set", "unsupported_file"],
        [fileConflict, "agents.files.set", "file_conflict"],
        [stale, "config.patch", "config_conflict"],
        [hashless, "config.patch", "config_base_hash_required"],
        [mainSession, "sessions.delete", "main_session"],
        [badParams, "agents.create", "invalid_request"],
        [unavailable, "health", "unavailable"]
      ]
      for (const [error, method, kind] of cases) {
        expect(error, kind).toBeInstanceOf(GatewayRpcError)
        expect(error, kind).toMatchObject({ method, kind })
        expect(isTransient(error), kind).toBe(kind === "unavailable")
      }
      expect(unavailable).toMatchObject({ code: "UNAVAILABLE", retryable: true })
      // One socket served every refusal: ok:false is an answer, not a connection problem.
      expect(sim.connectionsOpened).toBe(1)
    })
  )

  it.scopedLive("adds an idempotencyKey to chat.send only when absent, and to no other method", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup()
      const generated = yield* client.call(target, "chat.send", { sessionKey: "agent:main:main", message: "one", deliver: false })
      const fixed = yield* client.call(target, "chat.send", { sessionKey: "agent:main:main", message: "two", deliver: false, idempotencyKey: "fixed-1" })
      yield* client.call(target, "agents.list", {})
      const sent = sim.calls.filter((call) => call.method === "chat.send").map((call) => call.params as Record<string, unknown>)
      expect(sent[0]?.["idempotencyKey"]).toMatch(UUID)
      expect(generated.runId).toBe(sent[0]?.["idempotencyKey"])
      expect(sent[1]?.["idempotencyKey"]).toBe("fixed-1")
      expect(fixed).toMatchObject({ runId: "fixed-1", status: "started" })
      expect(sim.calls.at(-1)).toMatchObject({ method: "agents.list", params: {} })
    })
  )

  it.scopedLive("times out a hung call with GatewayTimeoutError and keeps the socket for later calls", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup()
      sim.inject({ method: "health", hang: true })
      const error = yield* Effect.flip(client.call(target, "health", {}, { timeoutMs: 150 }))
      expect(error).toBeInstanceOf(GatewayTimeoutError)
      expect(error).toMatchObject({ method: "health", timeoutMs: 150 })
      expect(isTransient(error)).toBe(true)
      const health = yield* client.call(target, "health", {})
      expect(health.ok).toBe(true)
      expect(sim.connectionsOpened).toBe(1)
      expect(sim.countOf("health")).toBe(2)
    })
  )

  it.scopedLive("times out a hung call made in an uninterruptible region", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup()
      sim.inject({ method: "agents.create", hang: true })
      const started = Date.now()
      const error = yield* Effect.flip(Effect.uninterruptible(client.call(target, "agents.create", { name: "hung" }, { timeoutMs: 150 })))
      expect(error).toBeInstanceOf(GatewayTimeoutError)
      expect(error).toMatchObject({ method: "agents.create", timeoutMs: 150 })
      expect(Date.now() - started).toBeLessThan(1_000)
    })
  )

  // A request still waiting for the handshake when its caller gives up must not be sent once the
  // handshake completes, or the gateway would run a call nobody waits for.
  it.scopedLive("does not send a call that timed out while the socket was still handshaking", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup({ latencyMs: 300 })
      const error = yield* Effect.flip(client.call(target, "agents.create", { name: "too-late" }, { timeoutMs: 100 }))
      expect(error).toBeInstanceOf(GatewayTimeoutError)
      // Frames on one socket arrive in order: once this answer is back, an earlier send would have landed.
      yield* client.call(target, "agents.list", {})
      expect(sim.calls.map((call) => call.method)).toEqual(["agents.list"])
      expect(sim.state.agents.has("too-late")).toBe(false)
    })
  )

  for (const closeCode of [1012, 4001]) {
    it.scopedLive(`fails a pending call on close ${closeCode} with a retryable GatewayConnectionError, then reconnects`, () =>
      Effect.gen(function* () {
        const { sim, client, target } = yield* setup()
        yield* client.call(target, "health", {})
        sim.inject({ method: "agents.list", closeWith: closeCode })
        const error = yield* Effect.flip(client.call(target, "agents.list", {}))
        expect(error).toBeInstanceOf(GatewayConnectionError)
        expect(error).toMatchObject({ closeCode, retryable: true })
        expect(isTransient(error)).toBe(true)
        const listed = yield* client.call(target, "agents.list", {})
        expect(listed.agents.map((agent) => agent.id)).toEqual(["main"])
        expect(sim.connectionsOpened).toBe(2)
        expect((yield* client.stats).socketsOpened).toBe(2)
      })
    )
  }

  it.scopedLive("rides out a gateway restart with gatewayTransient: 1012, startup refusals, then success", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup()
      yield* client.call(target, "health", {})
      sim.inject({ method: "agents.list", hang: true })
      const errors: Array<GatewayError> = []
      const call = yield* client.call(target, "agents.list", {}).pipe(
        Effect.tapError((error) => Effect.sync(() => errors.push(error))),
        retried,
        Effect.fork
      )
      yield* poll(() => sim.countOf("agents.list") === 1)
      const restart = yield* Effect.fork(Effect.promise(() => sim.restart({ downMs: 600 })))
      const listed = yield* Fiber.join(call)
      yield* Fiber.join(restart)

      expect(listed.agents.map((agent) => agent.id)).toEqual(["main"])
      expect(errors[0]).toMatchObject({ _tag: "GatewayConnectionError", closeCode: 1012, retryable: true })
      // While the gateway starts it refuses `connect` with UNAVAILABLE (retryAfterMs 500): still transient.
      expect(errors.slice(1).length).toBeGreaterThan(0)
      for (const error of errors.slice(1)) {
        expect(error).toMatchObject({ _tag: "GatewayConnectionError", reason: "handshake", retryable: true })
      }
      expect(sim.countOf("agents.list")).toBe(2)
    })
  )

  it.scopedLive("reports a wrong token as a non-retryable auth error, without retrying", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup()
      const error = yield* Effect.flip(retried(client.call({ ...target, token: Redacted.make("not-the-token") }, "health", {})))
      expect(error).toBeInstanceOf(GatewayConnectionError)
      expect(error).toMatchObject({ reason: "auth", retryable: false })
      expect(error.message).toMatch(/token mismatch/)
      expect(isTransient(error)).toBe(false)
      expect(sim.connectionsOpened).toBe(1)
      expect(sim.calls).toHaveLength(0)
    })
  )

  it.scopedLive("opens a fresh socket when a gateway's token changes or it is forgotten", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup()
      yield* client.call(target, "health", {})
      yield* client.call({ ...target, token: Redacted.make(sim.token) }, "health", {})
      expect(sim.connectionsOpened).toBe(1)
      const wrong = yield* Effect.flip(client.call({ ...target, token: Redacted.make("rotated") }, "health", {}))
      expect(wrong).toMatchObject({ _tag: "GatewayConnectionError", reason: "auth" })
      yield* client.call(target, "health", {})
      yield* client.forget(target.id)
      yield* client.call(target, "health", {})
      expect(sim.connectionsOpened).toBe(4)
      expect((yield* client.stats).socketsOpened).toBe(4)
    })
  )

  it.scopedLive("publishes pushed events (tick, health, shutdown) on the events stream with the gateway id", () =>
    Effect.gen(function* () {
      const { sim, client, target } = yield* setup({ tickIntervalMs: 40 })
      const seen: Array<GatewayEvent> = []
      yield* client.events.pipe(
        Stream.runForEach((event) => Effect.sync(() => seen.push(event))),
        Effect.forkScoped
      )
      yield* client.connect(target)
      // A tick proves the subscription is live; the next handshake's health event must then arrive.
      yield* poll(() => seen.some((event) => event.event === "tick"))
      yield* Effect.promise(() => sim.restart())
      yield* retried(client.call(target, "health", {}))
      yield* poll(() => seen.some((event) => event.event === "health"))
      const tick = seen.find((event) => event.event === "tick")
      const health = seen.find((event) => event.event === "health")
      const shutdown = seen.find((event) => event.event === "shutdown")
      expect(tick).toMatchObject({ gatewayId: "gw-1", payload: { ts: expect.any(Number) }, seq: expect.any(Number) })
      expect(health).toMatchObject({ gatewayId: "gw-1", payload: { ok: true, defaultAgentId: "main" } })
      expect(shutdown).toMatchObject({ gatewayId: "gw-1", payload: { reason: "gateway restarting" } })
    })
  )
})

describe("GatewayClient.withConfigLock", () => {
  it.scoped("serialises effects for one gateway and lets other gateways run alongside", () =>
    Effect.gen(function* () {
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const log: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const aIn = yield* Deferred.make<void>()
      const bWants = yield* Deferred.make<void>()
      const cDone = yield* Deferred.make<void>()
      const a = yield* client
        .withConfigLock("gw-1", Effect.gen(function* () {
          log.push("a:start")
          yield* Deferred.succeed(aIn, undefined)
          yield* Deferred.await(gate)
          log.push("a:end")
        }))
        .pipe(Effect.fork)
      yield* Deferred.await(aIn)
      const b = yield* Effect.sync(() => log.push("b:wants")).pipe(
        Effect.zipRight(Deferred.succeed(bWants, undefined)),
        Effect.zipRight(client.withConfigLock("gw-1", Effect.sync(() => log.push("b:start", "b:end")))),
        Effect.fork
      )
      yield* Deferred.await(bWants)
      yield* client.withConfigLock("gw-2", Effect.sync(() => log.push("c:ran"))).pipe(Effect.zipRight(Deferred.succeed(cDone, undefined)))
      yield* Deferred.await(cDone)
      expect(log).toEqual(["a:start", "b:wants", "c:ran"])
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(a)
      yield* Fiber.join(b)
      expect(log).toEqual(["a:start", "b:wants", "c:ran", "a:end", "b:start", "b:end"])
    })
  )

  it.scoped("releases the lock when the effect fails", () =>
    Effect.gen(function* () {
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const failed = yield* Effect.flip(client.withConfigLock("gw-1", Effect.fail("boom" as const)))
      expect(failed).toBe("boom")
      expect(yield* client.withConfigLock("gw-1", Effect.succeed("next"))).toBe("next")
    })
  )
})

describe("isGatewayError", () => {
  it("recognises every member of the gateway error family, and nothing else", () => {
    const family = [
      new GatewayRpcError({ method: "m", code: "INVALID_REQUEST", kind: "invalid_request", message: "x", retryable: false }),
      new GatewayConnectionError({ reason: "closed", message: "x", retryable: true }),
      new GatewayTimeoutError({ method: "m", timeoutMs: 1 }),
      new GatewayProtocolError({ method: "m", message: "x" }),
      new GatewayPairingRequired({ requestId: "r", deviceId: "d", reason: undefined })
    ]
    for (const error of family) expect(isGatewayError(error), error._tag).toBe(true)
    expect(isGatewayError(new Error("GatewayRpcError"))).toBe(false)
    expect(isGatewayError({ _tag: "SqlError" })).toBe(false)
    expect(isGatewayError(undefined)).toBe(false)
  })
})

describe("isTransient", () => {
  const rpc = (fields: Partial<ConstructorParameters<typeof GatewayRpcError>[0]>) =>
    new GatewayRpcError({ method: "m", code: "INVALID_REQUEST", kind: "invalid_request", message: "x", retryable: false, ...fields })

  it("retries socket loss, restarts, UNAVAILABLE, retryable:true, rate limits and timeouts", () => {
    expect(isTransient(new GatewayConnectionError({ reason: "closed", message: "x", closeCode: 1012, retryable: true }))).toBe(true)
    expect(isTransient(new GatewayConnectionError({ reason: "closed", message: "x", closeCode: 4001, retryable: true }))).toBe(true)
    expect(isTransient(new GatewayConnectionError({ reason: "handshake", message: "UNAVAILABLE", retryable: true, retryAfterMs: 500 }))).toBe(true)
    expect(isTransient(new GatewayTimeoutError({ method: "m", timeoutMs: 1 }))).toBe(true)
    expect(isTransient(rpc({ code: "UNAVAILABLE", kind: "unavailable" }))).toBe(true)
    expect(isTransient(rpc({ code: "UNAVAILABLE", kind: "rate_limited", retryAfterMs: 1_000 }))).toBe(true)
    expect(isTransient(rpc({ retryable: true, kind: "other" }))).toBe(true)
  })

  it("never retries a replayed chat.send whose first run failed, even when marked retryable", () => {
    expect(isTransient(rpc({ method: "chat.send", code: "UNAVAILABLE", kind: "chat_run_failed", retryable: true }))).toBe(false)
  })

  it("does not retry auth, protocol drift or terminal RPC refusals", () => {
    expect(isTransient(new GatewayConnectionError({ reason: "auth", message: "x", closeCode: 1008, retryable: false }))).toBe(false)
    expect(isTransient(new GatewayProtocolError({ method: "m", message: "x" }))).toBe(false)
    for (const kind of ["agent_not_found", "agent_exists", "unsupported_file", "file_conflict", "config_conflict", "config_base_hash_required", "main_session", "missing_scope", "invalid_request", "other"] as const) {
      expect(isTransient(rpc({ kind })), kind).toBe(false)
    }
  })
})

describe("rpcError classifies the real gateway's words (recordings of openclaw 2026.9.6)", () => {
  // ../shared sits beside the checkout, for developers and CI alike.
  const RECORDINGS = fileURLToPath(new URL("../fixtures/gateway-recordings", import.meta.url))
  const recording = JSON.parse(readFileSync(join(RECORDINGS, "openclaw-2026.9.6-rpc-and-handshakes.json"), "utf8")) as {
    rpc: Array<{ label: string; method?: string; error?: unknown }>
  }
  /** The recorded `error` object of the call labelled `label`, checked against our ErrorShape. */
  const recorded = (label: string) => {
    const entry = recording.rpc.find((call) => call.label === label)
    if (entry === undefined) throw new Error(`no recorded call labelled ${JSON.stringify(label)}`)
    return { method: entry.method ?? "agents.create", error: ErrorShape.parse(entry.error) }
  }

  const cases: Array<[label: string, kind: string, code: string]> = [
    ["agents.create (duplicate)", "agent_exists", "INVALID_REQUEST"],
    ["agents.update (unknown agent)", "agent_not_found", "INVALID_REQUEST"],
    ["agents.files.list (unknown agent)", "agent_not_found", "INVALID_REQUEST"],
    ["agents.delete (unknown)", "agent_not_found", "INVALID_REQUEST"],
    ["agents.files.set (unsupported name TASK_SOUL.md)", "unsupported_file", "INVALID_REQUEST"],
    ["agents.files.set (path traversal)", "unsupported_file", "INVALID_REQUEST"],
    ["agents.files.set (stale expectedHash)", "file_conflict", "INVALID_REQUEST"],
    ["config.patch (stale baseHash)", "config_conflict", "INVALID_REQUEST"],
    ["config.patch (no baseHash)", "config_base_hash_required", "INVALID_REQUEST"],
    ["sessions.delete (main session)", "main_session", "INVALID_REQUEST"],
    ["sessions.delete", "main_session", "INVALID_REQUEST"],
    ["agents.create with operator.read only", "missing_scope", "FORBIDDEN"],
    ["unknown method", "invalid_request", "INVALID_REQUEST"],
    ["agents.create (extra prop)", "invalid_request", "INVALID_REQUEST"],
    ["agents.delete (main)", "invalid_request", "INVALID_REQUEST"],
    ["config.patch (array agents.list w/o replacePaths)", "invalid_request", "INVALID_REQUEST"]
  ]

  for (const [label, kind, code] of cases) {
    it(`${label} → ${kind}`, () => {
      const { method, error } = recorded(label)
      const classified = rpcError(method, error)
      expect(classified).toMatchObject({ _tag: "GatewayRpcError", method, code, kind, message: error.message, retryable: false })
      expect(isTransient(classified)).toBe(false)
    })
  }

  it("reads a chat.send refusal that carries its failed run (status:error) as chat_run_failed", () => {
    // As 2026.9.6 and 2026.8.2 replay a failed run: no `retryable` (docs/gateway-protocol.md §9).
    const error = { code: "UNAVAILABLE", message: "No route-compatible authentication source is configured for openai." }
    const runId = "wake-a-1-1"
    const replay = rpcError("chat.send", error, { runId, status: "error" })
    expect(replay).toMatchObject({ kind: "chat_run_failed", method: "chat.send" })
    expect(isTransient(replay)).toBe(false)
    // Only chat.send, and only with a failed run attached.
    expect(rpcError("chat.send", error, { runId, status: "in_flight" }).kind).toBe("unavailable")
    expect(rpcError("agents.create", error, { runId, status: "error" }).kind).toBe("unavailable")
  })

  it("reads a chat.send refused before it was accepted (status:error, retryable:true) as unavailable, to be sent again", () => {
    // The gateway's pre-ack "client-retry" answer: the message was not taken and the key is not kept (docs/gateway-protocol.md §9).
    const error = { code: "UNAVAILABLE", message: "SessionTranscriptProjectionUnavailableError: Session transcript projection is rebuilding: s-1", retryable: true, retryAfterMs: 250 }
    const refused = rpcError("chat.send", error, { runId: "wake-a-1-1", status: "error", summary: error.message })
    expect(refused).toMatchObject({ kind: "unavailable", retryable: true, retryAfterMs: 250 })
    expect(isTransient(refused)).toBe(true)
  })

  it("reads a failed run's replay marked retryable:true without the client-retry delay as chat_run_failed: never sent twice", () => {
    // A release that marks the replay retryable (the shape pinned before the pre-ack refusal was known) is still a delivered message.
    const error = { code: "UNAVAILABLE", message: "No route-compatible authentication source is configured for openai.", retryable: true }
    const replay = rpcError("chat.send", error, { runId: "wake-a-1-1", status: "error" })
    expect(replay).toMatchObject({ kind: "chat_run_failed", method: "chat.send" })
    expect(isTransient(replay)).toBe(false)
  })

  it("keeps the recorded details and the gateway's retry hints", () => {
    const { method, error } = recorded("agents.files.set (stale expectedHash)")
    expect(rpcError(method, error).details).toMatchObject({ type: "agent_file_conflict", name: "SOUL.md" })
    const limited = rpcError("config.patch", { code: "UNAVAILABLE", message: "rate limit exceeded for config.patch; retry after 12s", retryable: true, retryAfterMs: 12_000 })
    expect(limited).toMatchObject({ kind: "rate_limited", retryAfterMs: 12_000 })
    expect(isTransient(limited)).toBe(true)
  })
})

describe("GatewayClient.configRevision", () => {
  /** A gateway that handshakes, then sends the event frames a test pushes. */
  const pushingGateway = Effect.acquireRelease(
    Effect.async<WebSocketServer>((resume) => {
      const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
      wss.on("listening", () => resume(Effect.succeed(wss)))
      wss.on("connection", (ws) => {
        ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: Date.now() } }))
        ws.on("message", (data) => {
          const frame = RequestFrame.safeParse(JSON.parse(String(data)))
          if (frame.success) ws.send(JSON.stringify({ type: "res", id: frame.data.id, ok: true, payload: HELLO }))
        })
      })
    }),
    (wss) =>
      Effect.async<void>((resume) => {
        for (const ws of wss.clients) ws.terminate()
        wss.close(() => resume(Effect.void))
      })
  )

  it.scopedLive("rises on config.changed, on a gap in the events' seq and on a socket closing; unknown without a socket", () =>
    Effect.gen(function* () {
      const wss = yield* pushingGateway
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const target: GatewayTarget = { id: "gw-1", url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, token: Redacted.make("t") }
      expect(client.configRevision("gw-1")).toBeUndefined()
      yield* client.connect(target)
      const push = (event: string, seq: number) => {
        for (const ws of wss.clients) ws.send(JSON.stringify({ type: "event", event, payload: {}, seq }))
      }
      const seen: Array<GatewayEvent> = []
      yield* client.events.pipe(Stream.runForEach((event) => Effect.sync(() => seen.push(event))), Effect.forkScoped)
      yield* Effect.sleep("20 millis")
      const arrived = (seq: number) => poll(() => seen.some((event) => event.seq === seq))
      const start = client.configRevision("gw-1") ?? -1
      expect(start).toBeGreaterThanOrEqual(0)
      push("tick", 1)
      push("presence", 2)
      yield* arrived(2)
      expect(client.configRevision("gw-1")).toBe(start)
      push("config.changed", 3)
      yield* arrived(3)
      expect(client.configRevision("gw-1")).toBe(start + 1)
      // seq 4 was dropped by the gateway (a slow reader): it may have been a config.changed.
      push("tick", 5)
      yield* arrived(5)
      expect(client.configRevision("gw-1")).toBe(start + 2)
      for (const ws of wss.clients) ws.terminate()
      yield* poll(() => (client.configRevision("gw-1") ?? 0) > start + 2)
    })
  )

  it.scopedLive("a replaced socket's late frames and close move nothing: a gap on the new socket still raises it, no false one does, and its close is not published", () =>
    Effect.gen(function* () {
      const wss = yield* pushingGateway
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
      yield* client.connect({ id: "gw-1", url, token: Redacted.make("t1") })
      const [old] = [...wss.clients]
      // The old socket's server side stops reading: it answers the client's close only when resumed, and meanwhile still sends.
      ;(old as unknown as { _socket: { pause: () => void; resume: () => void } })._socket.pause()
      const seen: Array<GatewayEvent> = []
      yield* client.events.pipe(Stream.runForEach((event) => Effect.sync(() => seen.push(event))), Effect.forkScoped)
      yield* Effect.sleep("20 millis")
      // New credentials: the old connection is disposed ("replaced"), a new socket opens.
      yield* client.connect({ id: "gw-1", url, token: Redacted.make("t2") })
      const current = [...wss.clients].find((ws) => ws !== old)!
      const push = (ws: typeof old, event: string, seq: number) => ws!.send(JSON.stringify({ type: "event", event, payload: {}, seq }))
      const arrived = (seq: number) => poll(() => seen.some((event) => event.seq === seq))
      push(current, "tick", 1)
      yield* arrived(1)
      const settled = client.configRevision("gw-1") ?? -1
      // A late frame of the old socket, numbered far ahead.
      push(old, "tick", 50)
      yield* Effect.sleep("100 millis")
      expect(client.configRevision("gw-1")).toBe(settled)
      // seq 2 dropped on the new socket (it may have been a config.changed): that gap must show.
      push(current, "tick", 3)
      yield* arrived(3)
      expect(client.configRevision("gw-1")).toBe(settled + 1)
      // The old socket's close arrives late (its server side answers the close once resumed): it
      // must not clear the new socket's count (a false gap next), nor tell `events` the gateway's
      // socket closed while the new one is open.
      const closes = () => seen.filter((event) => event.event === CONNECTION_EVENT && (event.payload as { status?: string }).status === "closed").length
      const closedBefore = closes()
      const oldClosed = Effect.async<void>((resume) => void old!.once("close", () => resume(Effect.void)))
      ;(old as unknown as { _socket: { resume: () => void } })._socket.resume()
      yield* oldClosed
      // A frame of the new socket sent after the old one's close: by its arrival the client has seen that close too.
      push(current, "tick", 4)
      yield* arrived(4)
      expect(closes()).toBe(closedBefore)
      expect(client.configRevision("gw-1")).toBe(settled + 1)
      push(current, "tick", 5)
      yield* arrived(5)
      expect(client.configRevision("gw-1")).toBe(settled + 1)
    })
  )
})
