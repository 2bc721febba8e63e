import { afterEach, expect, it } from "vitest"
import { reconnectingReads } from "./reconnectingReads.ts"
import { startGatewaySimulator, type GatewaySimulator } from "./simulator/GatewaySimulator.ts"

let simulator: GatewaySimulator | undefined
afterEach(async () => {
  await simulator?.stop()
})

it("sends a read whose socket closed (1012) again on a new connection", async () => {
  simulator = await startGatewaySimulator()
  const raw = await reconnectingReads(simulator)
  simulator.inject({ method: "agents.list", closeWith: 1012 })
  const listed = await raw.call("agents.list", {})
  expect(listed.ok).toBe(true)
  expect(simulator.countOf("agents.list")).toBe(2)
  expect(simulator.connectionsOpened).toBe(2)
  await raw.close()
})

it("keeps trying while the gateway restarts, then answers", async () => {
  simulator = await startGatewaySimulator()
  const raw = await reconnectingReads(simulator)
  const restarted = simulator.restart({ downMs: 1_000 })
  const listed = await raw.call("agents.list", {})
  await restarted
  expect(listed.ok).toBe(true)
  await raw.close()
})
