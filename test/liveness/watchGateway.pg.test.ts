import { describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import type { InProcessService } from "../support/inProcessService.ts"
import { connectRaw } from "../support/rawGatewayClient.ts"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"
import { failedWakeLiveness } from "./failedWakeLiveness.ts"

/** Fast liveness limits for the simulator: probes every 100 ms, reconciliation every 200 ms, the gateway lost after 1 s. */
const config = { livenessWatchers: true, livenessProbeMs: 100, reconcileMs: 200, gatewayLostAfterMs: 1_000 }
const POLL = { timeout: 15_000, interval: 50 }

/** Waits until the gateway's watcher runs and reaches it (the watchers pick up a new gateway within 5 s). */
const watching = async (service: InProcessService, gatewayId: string) => {
  await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
}

/** Creates an agent with LLM heartbeats off and brings it online with one curl-back. */
const onlineAgent = async (service: InProcessService, simulator: GatewaySimulator, boardId: string, name: string) => {
  const created = await service.api("POST", "/api/v1/agents", { name, board_id: boardId, heartbeat_config: { every: "0m" } })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const id = created.body.id as string
  await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${id}`)).body.state, POLL).toBe("provisioning.awaiting")
  const view = (await service.api("GET", `/api/v1/agents/${id}`)).body
  const token = readAuthToken(simulator.state.files.get(view.gateway_agent_id)?.get("AGENTS.md") ?? "")
  const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
  expect(beat.status).toBe(200)
  await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${id}`)).body.status, POLL).toBe("online")
  return { id, gatewayAgentId: view.gateway_agent_id as string }
}

const agentOf = async (service: InProcessService, id: string) => (await service.api("GET", `/api/v1/agents/${id}`)).body

describe("liveness watcher on the simulator", () => {
  it("a wake's failed run counts as activity and shows why it failed; the effective heartbeat is read back", async () => {
    await withSimulatedStack({ boardName: "Runs", config, simulator: { failRunsAfterMs: 100 } }, async ({ service, simulator, boardId, gatewayId }) => {
      await watching(service, gatewayId)
      const agent = await onlineAgent(service, simulator, boardId, "Runner")
      await expect.poll(async () => (await agentOf(service, agent.id)).liveness?.last_run?.outcome, POLL).toBe("error")
      const view = await agentOf(service, agent.id)
      expect(view.status).toBe("online")
      expect(view.liveness).toMatchObject(failedWakeLiveness)
      expect(["agent", "sessions.changed", "curl-back"]).toContain(view.liveness.last_activity_source)
    })
  })

  it("stopping the gateway turns its agents offline with 'gateway unreachable'; they come back when it returns", async () => {
    await withSimulatedStack({ boardName: "Outage", config }, async ({ service, simulator, boardId, gatewayId }) => {
      await watching(service, gatewayId)
      const agent = await onlineAgent(service, simulator, boardId, "Patient")
      const down = simulator.restart({ downMs: 2_500 })
      await expect.poll(async () => (await agentOf(service, agent.id)).status, POLL).toBe("offline")
      const offline = await agentOf(service, agent.id)
      expect(offline.offline_reason).toBe("gateway unreachable for more than 1 s")
      expect(offline.liveness).toMatchObject({ gateway_reachable: false, offline_cause: "gateway_unreachable" })
      expect((await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body).toMatchObject({ reachable: false })
      await down
      await expect.poll(async () => (await agentOf(service, agent.id)).status, POLL).toBe("online")
      expect((await agentOf(service, agent.id)).liveness).toMatchObject({ gateway_reachable: true, offline_cause: null })
    })
  })

  it("an agent deleted on the gateway behind our back shows as missing; retry re-provisions it", async () => {
    await withSimulatedStack({ boardName: "Drift", config }, async ({ service, simulator, boardId, gatewayId }) => {
      await watching(service, gatewayId)
      const agent = await onlineAgent(service, simulator, boardId, "Vanishing")
      const raw = await connectRaw({ url: simulator.url, token: simulator.token })
      try {
        expect((await raw.call("agents.delete", { agentId: agent.gatewayAgentId, deleteFiles: true })).ok).toBe(true)
      } finally {
        await raw.close()
      }
      await expect.poll(async () => (await agentOf(service, agent.id)).status, POLL).toBe("offline")
      const missing = await agentOf(service, agent.id)
      expect(missing.offline_reason).toBe(`deleted on the gateway: ${agent.gatewayAgentId} is missing from agents.list`)
      expect(missing.liveness).toMatchObject({ missing_on_gateway: true, offline_cause: "gateway_missing" })
      expect((await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body.missing_agent_ids).toContain(agent.id)
      const activity = (await service.api("GET", `/api/v1/activity?agent_id=${agent.id}`)).body
      expect(JSON.stringify(activity)).toContain("agent.gateway.missing")

      expect((await service.api("POST", `/api/v1/agents/${agent.id}/retry`)).status).toBe(200)
      await expect.poll(async () => (await agentOf(service, agent.id)).state, POLL).toBe("updating.awaiting")
      expect(simulator.state.agents.has(agent.gatewayAgentId)).toBe(true)
      expect((await agentOf(service, agent.id)).liveness.missing_on_gateway).toBe(false)
    })
  })

  it("lists gateway agents with our prefix that we do not know as orphans", async () => {
    await withSimulatedStack({ boardName: "Orphans", config }, async ({ service, simulator, gatewayId }) => {
      await watching(service, gatewayId)
      const raw = await connectRaw({ url: simulator.url, token: simulator.token })
      try {
        expect((await raw.call("agents.create", { name: "mc-stray-agent" })).ok).toBe(true)
      } finally {
        await raw.close()
      }
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body.orphans, POLL).toContain("mc-stray-agent")
      const status = (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body
      expect(status).toMatchObject({ reachable: true, degraded: [], server_version: "2026.9.6" })
    })
  })

  it("counts heartbeat runs toward the heartbeat budget and records them as the agent's activity", async () => {
    await withSimulatedStack({ boardName: "Budget", config }, async ({ service, simulator, boardId, gatewayId }) => {
      await watching(service, gatewayId)
      const agent = await onlineAgent(service, simulator, boardId, "Beating")
      simulator.heartbeatRun(agent.gatewayAgentId, "ok")
      await expect.poll(async () => (await agentOf(service, agent.id)).liveness?.last_run, POLL).toMatchObject({ heartbeat: true, outcome: "ok" })
      const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: "Bearer test-admin-token-0123456789" } })).text()
      expect(metrics).toContain(`switchyard_llm_heartbeat_runs_total{gateway_id="${gatewayId}"} 1`)
      await expect
        .poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body.heartbeat_turns_per_agent_hour, POLL)
        .toBeGreaterThan(0)
    })
  })
})
