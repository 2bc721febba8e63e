import pg from "pg"
import { describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { processWithOnlineAgent } from "../support/processWithAgent.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"
import { startGatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * Write-ahead, with a real crash: the service is killed (SIGKILL) the instant the gateway
 * receives `agents.delete`, and the gateway still carries the delete out. The saved snapshot
 * must already be in `deleting`, so that after a restart the agent finishes its delete
 * instead of coming back `online` while it no longer exists on the gateway.
 */

const statePathIn = async (databaseUrl: string, agentId: string) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const result = await client.query<{ state_path: string }>("select state_path from agents where id = $1", [agentId])
    return result.rows[0]?.state_path
  } finally {
    await client.end()
  }
}

describe("a crash while DELETE /agents/{id} is in flight (real process, simulated gateway)", () => {
  it("the snapshot says deleting before the gateway deletes, and the restarted service finishes the delete", async () => {
    const db = await createTestDatabase()
    const simulator = await startGatewaySimulator()
    const env = { DATABASE_URL: db.url, SWITCHYARD_CHECKIN_TIMEOUT_MS: "300000", SWITCHYARD_OFFLINE_AFTER_MS: "300000", SWITCHYARD_RETRY_BASE_MS: "200" }
    let service: ServiceProcess | undefined
    try {
      const started = await processWithOnlineAgent(env, simulator, "Doomed")
      service = started.service
      const { agent } = started
      const first = service

      // The crash: SIGKILL as the gateway receives the delete; the gateway then carries it out.
      let killed: Promise<void> | undefined
      simulator.inject({
        method: "agents.delete",
        when: (params) => {
          if ((params as { agentId?: unknown }).agentId === agent.gateway_agent_id) killed ??= first.kill("SIGKILL")
          return false
        }
      })
      const deleting = first.api("DELETE", `/api/v1/agents/${agent.id}`).catch(() => undefined)
      await expect.poll(() => killed !== undefined, { timeout: 30_000, interval: 10 }).toBe(true)
      await killed
      await deleting
      expect(simulator.state.agents.has(agent.gateway_agent_id)).toBe(false)
      expect(await statePathIn(db.url, agent.id)).toMatch(/^deleting/)

      service = await startService(env)
      const second = service
      await expect.poll(async () => (await second.api("GET", `/api/v1/agents/${agent.id}`)).status, { timeout: 30_000, interval: 50 }).toBe(404)
      expect(await statePathIn(db.url, agent.id)).toBe("deleted")
      expect(simulator.state.agents.has(agent.gateway_agent_id)).toBe(false)
    } finally {
      await service?.kill("SIGTERM")
      await simulator.stop()
      await db.drop()
    }
  }, 120_000)
})
