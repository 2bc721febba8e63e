import { describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { processWithOnlineAgent } from "../support/processWithAgent.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"
import { startGatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** Past the watcher's connect and its reads, with room (they take milliseconds here). */
const SETTLE_MS = 4_000

/**
 * docs/operations.md §8: the watcher reconciles on every (re)connect and then every
 * `reconcileMs`. A connect is one round of fleet-sized reads (`health {probe: true}` and
 * `agents.list`: ~100 MB at 100,000 agents), not three: the watcher's own first connect also
 * announces its socket as ready, and the periodic rounds start one period after it.
 */
describe("the liveness watcher's rounds on connect (real process, simulated gateway)", () => {
  it("a restarted service reads agents.list and health once for its connect, not again before the period", async () => {
    const db = await createTestDatabase()
    const simulator = await startGatewaySimulator()
    const env = { DATABASE_URL: db.url, SWITCHYARD_CHECKIN_TIMEOUT_MS: "300000", SWITCHYARD_OFFLINE_AFTER_MS: "300000", SWITCHYARD_RECONCILE_MS: "60000" }
    let service: ServiceProcess | undefined
    try {
      service = (await processWithOnlineAgent(env, simulator, "Steady", { heartbeat_config: { every: "0m" } })).service
      await service.kill("SIGTERM")
      const from = simulator.calls.length
      service = await startService(env)
      const second = service
      await expect.poll(() => simulator.calls.slice(from).filter((call) => call.method === "agents.list").length, { timeout: 30_000, interval: 50 }).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
      const reads = simulator.calls.slice(from).filter((call) => call.method === "agents.list" || (call.method === "health" && (call.params as { probe?: boolean }).probe === true))
      console.log(`[measure] reads after the restart: ${reads.map((call) => call.method).join(", ")}`)
      expect(reads.filter((call) => call.method === "agents.list")).toHaveLength(1)
      expect(reads.filter((call) => call.method === "health")).toHaveLength(1)
      expect((await second.api("GET", "/readyz")).status).toBe(200)
    } finally {
      await service?.kill("SIGTERM")
      await simulator.stop()
      await db.drop()
    }
  }, 120_000)
})
