import { setTimeout as sleep } from "node:timers/promises"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { HelloOk } from "../../src/gateway/protocol.ts"
import { connectRaw, RawConnectError } from "../support/rawGatewayClient.ts"
import type { RawConnection } from "../support/rawGatewayClient.ts"
import { defineConformanceCases } from "../support/simulator/conformanceCases.ts"
import { startGatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import type { GatewaySimulator, SimulatorOptions } from "../support/simulator/GatewaySimulator.ts"
import { backendConnectParams, rawHandshake } from "../support/simulator/rawHandshake.ts"

describe("gateway simulator: conformance", () => {
  let sim: GatewaySimulator | undefined
  // A ready delay makes the shared cases exercise their polling, as the real gateway does.
  beforeAll(async () => {
    sim = await startGatewaySimulator({ agentReadyDelayMs: 300, failRunsAfterMs: 500 })
  })
  afterAll(async () => {
    await sim?.stop()
  })
  defineConformanceCases(() => {
    if (sim === undefined) throw new Error("simulator not started")
    const { editConfigFile } = sim
    return { url: sim.url, token: sim.token, editConfigFile: async (edit: (config: Record<string, unknown>) => void) => editConfigFile(edit) }
  })
})

describe("gateway simulator: test-double features", () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })
  const start = async (opts: SimulatorOptions = {}): Promise<GatewaySimulator> => {
    const sim = await startGatewaySimulator(opts)
    cleanup.push(() => sim.stop())
    return sim
  }
  const connect = async (sim: GatewaySimulator): Promise<RawConnection> => {
    const gw = await connectRaw({ url: sim.url, token: sim.token })
    cleanup.push(() => gw.close())
    return gw
  }

  it("records calls and lets injected errors win, then recovers", async () => {
    const sim = await start()
    const gw = await connect(sim)
    sim.inject({ method: "agents.list", error: { code: "UNAVAILABLE", message: "boom", retryable: true } })
    expect(await gw.call("agents.list", {})).toMatchObject({ ok: false, error: { code: "UNAVAILABLE", message: "boom" } })
    expect((await gw.call("agents.list", {})).ok).toBe(true)
    expect(sim.countOf("agents.list")).toBe(2)
    expect(sim.calls.at(-1)).toMatchObject({ method: "agents.list", params: {}, at: expect.any(Number) })
  })

  it("hangs or closes the socket on demand", async () => {
    const sim = await start()
    const gw = await connect(sim)
    sim.inject({ method: "health", hang: true })
    const hung = await Promise.race([gw.call("health").then(() => "answered"), sleep(200).then(() => "pending")])
    expect(hung).toBe("pending")
    sim.inject({ method: "agents.list", closeWith: 1012 })
    await expect(gw.call("agents.list", {})).rejects.toThrow(/1012/)
    expect(sim.connectionsOpened).toBe(1)
  })

  it("fails a handshake through a connect fault", async () => {
    const sim = await start()
    sim.inject({ method: "connect", error: { code: "UNAVAILABLE", message: "not yet", retryable: true } })
    const err = await connectRaw({ url: sim.url, token: sim.token }).catch((e: unknown) => e)
    expect((err as RawConnectError).error).toMatchObject({ code: "UNAVAILABLE", message: "not yet" })
    await connect(sim)
    expect(sim.connectionsOpened).toBe(2)
  })

  it("restarts: shutdown event, 1012, startup refusals with 1013, then the same state", async () => {
    const sim = await start()
    const gw = await connect(sim)
    const bootId = (HelloOk.parse(gw.hello).server as { bootId?: string }).bootId
    expect((await gw.call("agents.create", { name: "survivor" })).ok).toBe(true)
    const restarted = sim.restart({ downMs: 400 })
    await expect.poll(() => gw.events.map((e) => e.event)).toContain("shutdown")
    await expect(gw.call("health")).rejects.toThrow(/1012/)
    const refused = await rawHandshake(sim.url, backendConnectParams(sim.token))
    expect(refused.response.error).toMatchObject({ code: "UNAVAILABLE", retryable: true, retryAfterMs: 500, details: { reason: "startup-sidecars" } })
    expect(refused.close?.code).toBe(1013)
    await restarted
    const again = await connect(sim)
    expect((HelloOk.parse(again.hello).server as { bootId?: string }).bootId).not.toBe(bootId)
    expect(sim.state.agents.has("survivor")).toBe(true)
  })

  it("closes every socket with 4001 after answering a gateway.* patch", async () => {
    const sim = await start()
    const [a, b] = [await connect(sim), await connect(sim)]
    const { payload } = await a.call("config.get", {})
    const raw = JSON.stringify({ gateway: { trustedProxies: ["127.0.0.1"] } })
    const patched = await a.call("config.patch", { raw, baseHash: (payload as { hash: string }).hash })
    expect(patched.ok).toBe(true)
    await expect(b.call("health")).rejects.toThrow(/4001 gateway policy changed/)
  })

  it("hides a new agent for agentReadyDelayMs", async () => {
    const sim = await start({ agentReadyDelayMs: 400 })
    const gw = await connect(sim)
    await gw.call("agents.create", { name: "Slow Starter" })
    expect(await gw.call("agents.files.list", { agentId: "slow-starter" })).toMatchObject({ ok: false, error: { message: 'agent "slow-starter" not found' } })
    expect(await gw.call("agents.create", { name: "slow-starter" })).toMatchObject({ error: { message: 'agent "slow-starter" already exists' } })
    await expect.poll(async () => (await gw.call("agents.files.list", { agentId: "slow-starter" })).ok).toBe(true)
  })

  it("rate-limits config.patch at 30 per minute", async () => {
    const sim = await start()
    const gw = await connect(sim)
    for (let i = 0; i < 30; i++) expect((await gw.call("config.patch", { raw: "{}" })).ok).toBe(true)
    const limited = await gw.call("config.patch", { raw: "{}" })
    expect(limited.error).toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringMatching(/^rate limit exceeded for config\.patch; retry after \d+s$/),
      retryable: true,
      retryAfterMs: expect.any(Number),
      details: { method: "config.patch", limit: "30 per 60s" }
    })
  })

  it("delays responses by latencyMs and ticks every tickIntervalMs", async () => {
    const sim = await start({ latencyMs: 80, tickIntervalMs: 50 })
    const gw = await connect(sim)
    const t0 = performance.now()
    await gw.call("health")
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75)
    await expect.poll(() => gw.events.filter((e) => e.event === "tick").length).toBeGreaterThan(1)
    expect(HelloOk.parse(gw.hello).policy.tickIntervalMs).toBe(50)
  })

  it("grants the requested scopes and enforces them per method", async () => {
    const sim = await start()
    const readOnly = backendConnectParams(sim.token, { scopes: ["operator.read"] })
    const raw = await rawHandshake(sim.url, readOnly, { then: { method: "agents.create", params: { name: "nope" } } })
    expect(HelloOk.parse(raw.response.payload).auth.scopes).toEqual(["operator.read"])
    expect(raw.followUp?.error).toMatchObject({
      code: "FORBIDDEN",
      message: "missing scope: operator.admin",
      details: { code: "MISSING_SCOPE", missingScope: "operator.admin", requiredScopes: ["operator.admin"] }
    })
  })

  it("serves a config seeded through state", async () => {
    const sim = await start()
    sim.state.config = { gateway: { mode: "local" }, talk: { agentId: "main" } }
    const gw = await connect(sim)
    const { payload } = await gw.call("config.get", {})
    expect((payload as { config: unknown }).config).toEqual({ gateway: { mode: "local" }, talk: { agentId: "main" } })
  })
})
