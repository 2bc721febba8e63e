import { afterEach, describe, expect, it } from "vitest"
import { connectRaw } from "../support/rawGatewayClient.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { callOk, retryingRestarts } from "../support/simulator/conformanceSupport.ts"

/** The refusal of a gateway restarting under load (docs/gateway-protocol.md §9). */
const restarting = (retryAfterMs: number) => ({
  code: "UNAVAILABLE",
  message: "gateway restarting",
  retryable: true,
  retryAfterMs,
  details: { reason: "gateway-restarting", phase: "accepting" }
})

describe("conformance calls while the gateway restarts (docs/gateway-protocol.md §9)", () => {
  let sim: GatewaySimulator | undefined
  afterEach(async () => {
    await sim?.stop()
    sim = undefined
  })
  const connect = async (budgetMs?: number) => {
    sim = await startGatewaySimulator()
    return { sim, gw: retryingRestarts(await connectRaw({ url: sim.url, token: sim.token }), budgetMs) }
  }

  it("a call refused as restarting is sent again after retryAfterMs until it is answered", async () => {
    const { sim, gw } = await connect()
    sim.inject({ method: "health", times: 2, error: restarting(20) })
    expect((await callOk(gw, "health")).ok).toBe(true)
    expect(sim.countOf("health")).toBe(3)
    const [first, , third] = sim.calls.filter((call) => call.method === "health")
    expect(third!.at - first!.at).toBeGreaterThanOrEqual(35)
  })

  it("any other refusal, a retryable UNAVAILABLE included, comes back at once", async () => {
    const { sim, gw } = await connect()
    sim.inject({ method: "health", error: { code: "UNAVAILABLE", message: "Plugin openai was reloaded", retryable: true, retryAfterMs: 20 } })
    expect(await gw.call("health")).toMatchObject({ ok: false, error: { code: "UNAVAILABLE", message: "Plugin openai was reloaded" } })
    expect(sim.countOf("health")).toBe(1)
  })

  it("past its budget the last refusal stands", async () => {
    const { sim, gw } = await connect(150)
    sim.inject({ method: "health", times: 100, error: restarting(40) })
    expect(await gw.call("health")).toMatchObject({ ok: false, error: { code: "UNAVAILABLE", details: { reason: "gateway-restarting" } } })
    expect(sim.countOf("health")).toBeGreaterThanOrEqual(2)
    expect(sim.countOf("health")).toBeLessThanOrEqual(5)
  })
})
