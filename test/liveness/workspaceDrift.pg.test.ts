import { describe, expect, it } from "vitest"
import type { InProcessService } from "../support/inProcessService.ts"
import { connectRaw } from "../support/rawGatewayClient.ts"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * Workspace drift on the simulator (docs/operations.md §8 "Workspace drift"): a managed file
 * edited on the gateway behind Switchyard's back shows in the agent's read model; an edit of a
 * file the agent owns (USER.md) does not; a template sync rewrites the file and clears the drift.
 */
const POLL = { timeout: 20_000, interval: 50 }
/** Checks every 200 ms, so a change shows within a poll; the liveness watcher runs beside the check. */
const config = { workspaceCheckMs: 200, livenessWatchers: true }

const agentOf = async (service: InProcessService, id: string) => (await service.api("GET", `/api/v1/agents/${id}`)).body

const editOnGateway = async (simulator: GatewaySimulator, agentId: string, name: string, content: string) => {
  const raw = await connectRaw({ url: simulator.url, token: simulator.token })
  try {
    expect((await raw.call("agents.files.set", { agentId, name, content })).ok).toBe(true)
  } finally {
    await raw.close()
  }
}

describe("workspace drift", () => {
  it("an out-of-band edit of a managed file shows as drift; a template sync rewrites it and clears the drift", async () => {
    await withSimulatedStack({ boardName: "Drift", config }, async ({ service, simulator, gatewayId, boardId }) => {
      const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=15000", { name: "Steady", board_id: boardId })
      expect(created.status).toBe(201)
      const { id, gateway_agent_id: gatewayAgentId } = created.body as { id: string; gateway_agent_id: string }
      await expect.poll(async () => (await agentOf(service, id)).workspace?.checked_at ?? null, POLL).not.toBeNull()
      expect((await agentOf(service, id)).workspace.drifted).toEqual([])
      // Both per-gateway programs run: the check did not take the watcher's place.
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      const written = simulator.state.files.get(gatewayAgentId)!.get("SOUL.md")

      await editOnGateway(simulator, gatewayAgentId, "USER.md", "# USER\nThe agent's own notes.\n")
      await editOnGateway(simulator, gatewayAgentId, "SOUL.md", "# SOUL\nEdited by hand.\n")
      await expect.poll(async () => (await agentOf(service, id)).workspace.drifted, POLL).toEqual(["SOUL.md"])
      const listed = (await service.api("GET", `/api/v1/agents?board_id=${boardId}`)).body.items.find((agent: { id: string }) => agent.id === id)
      expect(listed.workspace.drifted).toEqual(["SOUL.md"])

      const job = await service.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync`, {})
      expect(job.status, JSON.stringify(job.body)).toBe(202)
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/templates/sync/${job.body.job_id}`)).body.status, POLL).toBe("done")
      expect((await agentOf(service, id)).workspace.drifted).toEqual([])
      expect(simulator.state.files.get(gatewayAgentId)!.get("SOUL.md")).toBe(written)

      // Later checks agree: the rewrite is what is on record now.
      const syncedAt = (await agentOf(service, id)).workspace.checked_at as string
      await expect.poll(async () => (await agentOf(service, id)).workspace.checked_at > syncedAt, POLL).toBe(true)
      expect((await agentOf(service, id)).workspace.drifted).toEqual([])
    })
  })

  it("a managed file deleted from the gateway counts as drift", async () => {
    await withSimulatedStack({ boardName: "Missing file", config }, async ({ service, simulator, boardId }) => {
      const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=15000", { name: "Forgetful", board_id: boardId })
      expect(created.status).toBe(201)
      const { id, gateway_agent_id: gatewayAgentId } = created.body as { id: string; gateway_agent_id: string }
      simulator.state.files.get(gatewayAgentId)!.delete("IDENTITY.md")
      await expect.poll(async () => (await agentOf(service, id)).workspace?.drifted ?? null, POLL).toEqual(["IDENTITY.md"])
    })
  })
})
