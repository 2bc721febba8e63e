import { describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import type { InProcessService } from "../support/inProcessService.ts"
import { connectRaw } from "../support/rawGatewayClient.ts"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * What the watcher reads, and when (docs/operations.md §8): reachability every probe period from a
 * one-row `sessions.list`; the fleet-sized `health {probe: true}` only on (re)connect, a second
 * after a `config.changed`, and every reconciliation. Reconciliation is once a minute here, so a
 * `health` read within a test is the connect's or the config change's.
 */
const PROBE_MS = 100
const config = { livenessWatchers: true, livenessProbeMs: PROBE_MS, reconcileMs: 60_000, gatewayLostAfterMs: 1_000 }
const POLL = { timeout: 15_000, interval: 50 }
/** Past the watcher's read a second after a `config.changed` (CONFIG_SETTLE_MS), with room. */
const CONFIG_SETTLED_MS = 2_000

const agentOf = async (service: InProcessService, id: string) => (await service.api("GET", `/api/v1/agents/${id}`)).body

/** Creates an agent with LLM heartbeats off and brings it online with one curl-back. */
const onlineAgent = async (service: InProcessService, simulator: GatewaySimulator, boardId: string, name: string) => {
  const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=15000", { name, board_id: boardId, heartbeat_config: { every: "0m" } })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const { id, gateway_agent_id: gatewayAgentId } = created.body as { id: string; gateway_agent_id: string }
  const token = readAuthToken(simulator.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")
  const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
  expect(beat.status).toBe(200)
  await expect.poll(async () => (await agentOf(service, id)).status, POLL).toBe("online")
  return { id, gatewayAgentId }
}

describe("the liveness watcher's probe cadence (simulator)", () => {
  it("probes reachability with a one-row read every period, and does not read health between reconciliations", async () => {
    await withSimulatedStack({ boardName: "Cadence", config }, async ({ service, simulator, boardId, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      await onlineAgent(service, simulator, boardId, "Quiet")
      // Its creation was a config change: let the read a second after it (CONFIG_SETTLE_MS) go by.
      await new Promise((resolve) => setTimeout(resolve, CONFIG_SETTLED_MS))
      const before = { health: simulator.countOf("health"), reach: simulator.countOf("sessions.list") }
      const started = Date.now()
      await new Promise((resolve) => setTimeout(resolve, 20 * PROBE_MS))
      const elapsed = Date.now() - started
      const reach = simulator.countOf("sessions.list") - before.reach
      console.log(`[measure] over ${elapsed} ms: ${reach} reachability reads, ${simulator.countOf("health") - before.health} health reads`)
      expect(simulator.countOf("health")).toBe(before.health)
      expect(reach).toBeGreaterThanOrEqual(Math.floor(elapsed / PROBE_MS / 4))
      const probes = simulator.calls.filter((call) => call.method === "sessions.list").slice(before.reach)
      expect(probes.every((call) => (call.params as { limit?: number }).limit === 1)).toBe(true)
    })
  })

  it("reads the effective heartbeat again after a config change made behind our back", async () => {
    await withSimulatedStack({ boardName: "Changed", config }, async ({ service, simulator, boardId, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      const agent = await onlineAgent(service, simulator, boardId, "Tampered")
      expect((await agentOf(service, agent.id)).liveness.effective_heartbeat).toMatchObject({ enabled: false })
      const raw = await connectRaw({ url: simulator.url, token: simulator.token })
      try {
        const { payload } = await raw.call("config.get", {})
        const patch = JSON.stringify({ agents: { entries: { [agent.gatewayAgentId]: { heartbeat: { every: "1h" } } } } })
        expect((await raw.call("config.patch", { raw: patch, baseHash: (payload as { hash: string }).hash })).ok).toBe(true)
      } finally {
        await raw.close()
      }
      await expect.poll(async () => (await agentOf(service, agent.id)).liveness?.effective_heartbeat?.every, POLL).toBe("1h")
      const view = await agentOf(service, agent.id)
      expect(view.liveness.offline_cause).toBe("heartbeat_mismatch")
      expect(view.status).toBe("offline")
    })
  })
})
