import { describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * A runner that stops gives up its gateways before its actors and jobs have ended; a gateway call
 * made meanwhile goes through the cluster, where a lone runner has no one left to take it
 * (docs/architecture.md §11). Such a call, here a config batch's retries from a region that may
 * not be interrupted, must still end, or the runner's stop never does.
 */
describe("a lone runner stopping (in-process service, simulated gateway)", () => {
  it("stops in bounded time while a config batch keeps retrying the gateway", async () => {
    const db = await createTestDatabase()
    const simulator = await startGatewaySimulator()
    const service = await startInProcessService(db.url, { configBatchMs: 50, gatewayCallTimeoutMs: 3_000, checkinTimeoutMs: 600_000 })
    let stopped = false
    try {
      const { boardId } = await registerGatewayAndBoard(service, simulator, "Stop")
      // The gateway's main agent is provisioned first: its own config batch is done.
      await expect.poll(async () => (await service.api("GET", `/api/v1/agents?board_id=${boardId}`)).status, { timeout: 10_000 }).toBe(200)
      const before = simulator.countOf("config.get")
      simulator.inject({ method: "config.get", times: 10_000, error: { code: "UNAVAILABLE", message: "busy", retryable: true } })
      void service.api("POST", "/api/v1/agents", { name: "Late", board_id: boardId })
      await expect.poll(() => simulator.countOf("config.get"), { timeout: 20_000, interval: 10 }).toBeGreaterThan(before)
      const started = Date.now()
      await service.stop()
      stopped = true
      // Within the drain's own bounds (programs 10 s, last snapshots 5 s, writers 2 × 10 s) and a
      // forwarded call's timeout (3 s + 5 s), with room for a loaded machine; without them it never ends.
      expect(Date.now() - started).toBeLessThan(45_000)
    } finally {
      if (!stopped) void service.stop()
      await simulator.stop()
      await db.drop()
    }
  }, 90_000)
})
