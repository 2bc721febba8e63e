import { describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { processWithOnlineAgent } from "../support/processWithAgent.ts"
import { connectRaw } from "../support/rawGatewayClient.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"
import { startGatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * Issue 11 §5 (docs/operations.md §8 "Drift"): a crash must not leave an agent shown online that
 * no longer exists on the gateway. test/faults/deleteWriteAhead.pg.test.ts covers the crash during
 * our own delete (the snapshot already says `deleting`). This is the other side: the snapshot
 * says `online` and the gateway agent is gone when the service comes back (deleted while the
 * service was down, or a delete whose save never landed). The restarted service's watcher
 * reconciles `agents.list` on connect and shows the agent missing, without waiting for its
 * reconciliation period (60 s by default, as here).
 */
describe("a crash with an agent saved online, whose gateway agent is gone after the restart (real process, simulated gateway)", () => {
  it("the restarted service shows it offline as missing on the gateway, and retry re-provisions it", async () => {
    const db = await createTestDatabase()
    const simulator = await startGatewaySimulator()
    const env = { DATABASE_URL: db.url, SWITCHYARD_CHECKIN_TIMEOUT_MS: "300000", SWITCHYARD_OFFLINE_AFTER_MS: "300000", SWITCHYARD_RETRY_BASE_MS: "200" }
    const POLL = { timeout: 30_000, interval: 50 }
    let service: ServiceProcess | undefined
    try {
      const started = await processWithOnlineAgent(env, simulator, "Ghost", { heartbeat_config: { every: "0m" } })
      service = started.service
      const { agent } = started
      const first = service

      // The crash, with the agent saved online; the gateway agent is deleted while the service is down.
      await first.kill("SIGKILL")
      const raw = await connectRaw({ url: simulator.url, token: simulator.token })
      try {
        expect((await raw.call("agents.delete", { agentId: agent.gateway_agent_id, deleteFiles: true })).ok).toBe(true)
      } finally {
        await raw.close()
      }

      service = await startService(env)
      const second = service
      const ready = Date.now()
      // Under the reconciliation period (60 s): only the reconciliation on connect can show it.
      await expect.poll(async () => (await second.api("GET", `/api/v1/agents/${agent.id}`)).body.status, { ...POLL, timeout: 45_000 }).toBe("offline")
      console.log(`[measure] restart ready → agent shown missing: ${Date.now() - ready} ms`)
      const missing = (await second.api("GET", `/api/v1/agents/${agent.id}`)).body
      expect(missing.offline_reason).toBe(`deleted on the gateway: ${agent.gateway_agent_id} is missing from agents.list`)
      expect(missing.liveness).toMatchObject({ missing_on_gateway: true, offline_cause: "gateway_missing" })

      expect((await second.api("POST", `/api/v1/agents/${agent.id}/retry`)).status).toBe(200)
      await expect.poll(async () => (await second.api("GET", `/api/v1/agents/${agent.id}`)).body.state, POLL).toBe("updating.awaiting")
      expect(simulator.state.agents.has(agent.gateway_agent_id)).toBe(true)
    } finally {
      await service?.kill("SIGTERM")
      await simulator.stop()
      await db.drop()
    }
  }, 120_000)
})
