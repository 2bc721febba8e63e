import { describe, expect, it } from "vitest"
import type { InProcessService } from "../support/inProcessService.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * An apply that fails part-way (docs/operations.md §8 "Workspace drift"): the files it did write
 * are Switchyard's own, so their hashes are on record and no drift check reports them.
 */
const POLL = { timeout: 20_000, interval: 50 }
const config = { workspaceCheckMs: 200 }

const agentOf = async (service: InProcessService, id: string) => (await service.api("GET", `/api/v1/agents/${id}`)).body

describe("workspace drift after a failed apply", () => {
  it("files written before the step failed are recorded, so they show no drift", async () => {
    await withSimulatedStack({ boardName: "Partial", config }, async ({ service, simulator, boardId }) => {
      const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=15000", { name: "Halfway", board_id: boardId })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      const { id, gateway_agent_id: gatewayAgentId } = created.body as { id: string; gateway_agent_id: string }
      await expect.poll(async () => (await agentOf(service, id)).workspace?.checked_at ?? null, POLL).not.toBeNull()
      const files = simulator.state.files.get(gatewayAgentId)!
      const before = { agents: files.get("AGENTS.md"), soul: files.get("SOUL.md") }

      // The update rewrites AGENTS.md (new token) and SOUL.md (new template), then IDENTITY.md is refused.
      simulator.inject({
        method: "agents.files.set",
        times: 1_000,
        error: { code: "INVALID_REQUEST", message: "refused by the test", retryable: false },
        when: (params) => (params as { agentId?: string; name?: string }).agentId === gatewayAgentId && (params as { name?: string }).name === "IDENTITY.md"
      })
      const patched = await service.api("PATCH", `/api/v1/agents/${id}`, { soul_template: "# SOUL\nA new soul, written before the failure.\n" })
      expect(patched.status, JSON.stringify(patched.body)).toBe(200)
      await expect.poll(async () => (await agentOf(service, id)).state, POLL).toBe("updating.failed")
      expect(files.get("SOUL.md")).toContain("A new soul, written before the failure.")
      expect(files.get("AGENTS.md")).not.toBe(before.agents)

      const failedAt = new Date().toISOString()
      await expect.poll(async () => (await agentOf(service, id)).workspace.checked_at > failedAt, POLL).toBe(true)
      expect((await agentOf(service, id)).workspace.drifted).toEqual([])
    })
  })
})
