import { describe, expect, it } from "vitest"
import type { InProcessService } from "../support/inProcessService.ts"
import { createOnGateway } from "../support/createOnGateway.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * Adoption refuses the gateway agents that are ours by another name (docs/operations.md §6.2
 * "Adopt", §8): ids reserved for a board lead or a gateway-main agent (422), and the old gateway
 * agent of a conversion not yet applied (409), which reconciliation does not list as an orphan.
 */
const POLL = { timeout: 20_000, interval: 50 }

const adopt = (service: InProcessService, gatewayId: string, body: Record<string, unknown>) => service.api("POST", `/api/v1/gateways/${gatewayId}/agents/adopt`, body)

describe("adoption of gateway agents that are ours by another name", () => {
  it("refuses lead-<board> and mc-gateway-<gateway> ids with 422, changing nothing", async () => {
    await withSimulatedStack({ boardName: "Reserved" }, async ({ service, simulator, gatewayId, boardId }) => {
      const lead = `lead-${boardId}`
      const otherMain = "mc-gateway-elsewhere"
      await createOnGateway(simulator, lead)
      await createOnGateway(simulator, otherMain)
      const agentsBefore = (await service.api("GET", "/api/v1/agents")).body
      const callsBefore = simulator.calls.filter((call) => call.method !== "agents.list" && call.method !== "health").length

      const asLead = await adopt(service, gatewayId, { gateway_agent_id: lead, board_id: boardId, name: "Not a lead" })
      expect(asLead.status, JSON.stringify(asLead.body)).toBe(422)
      expect(asLead.body.detail).toContain(`"${lead}" is reserved for a board lead`)
      const asMain = await adopt(service, gatewayId, { gateway_agent_id: otherMain, board_id: boardId, name: "Not a main" })
      expect(asMain.status, JSON.stringify(asMain.body)).toBe(422)
      expect(asMain.body.detail).toContain(`"${otherMain}" is reserved for a gateway's main agent`)

      expect((await service.api("GET", "/api/v1/agents")).body).toEqual(agentsBefore)
      expect(simulator.calls.filter((call) => call.method !== "agents.list" && call.method !== "health").length).toBe(callsBefore)
      // The board's lead can still be created under its own id.
      const created = await service.api("POST", "/api/v1/agents", { name: "Real lead", board_id: boardId, is_board_lead: true })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      expect(created.body.gateway_agent_id).toBe(lead)
    })
  })

  it("refuses a conversion's retired gateway agent with 409 and does not list it as an orphan", async () => {
    const config = { livenessWatchers: true, reconcileMs: 200 }
    await withSimulatedStack({ boardName: "Retired", config }, async ({ service, simulator, gatewayId, boardId }) => {
      const main = (await service.api("GET", "/api/v1/agents")).body.items.find((agent: { role: string }) => agent.role === "main")
      const worker = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Wanda", board_id: boardId })
      expect(worker.status, JSON.stringify(worker.body)).toBe(201)
      const demoted = await service.api("PATCH", `/api/v1/agents/${main.id}?wait_for=updating.awaiting&timeout_ms=20000`, { is_gateway_main: false, board_id: boardId })
      expect(demoted.status, JSON.stringify(demoted.body)).toBe(200)

      // Promoting the worker fails at its new gateway agent's files: the old one, mc-<worker>, stays on the gateway.
      const newId = `mc-gateway-${gatewayId}`
      simulator.inject({ method: "agents.files.set", times: 1_000, error: { code: "INVALID_REQUEST", message: "refused by the test", retryable: false }, when: (params) => (params as { agentId?: string }).agentId === newId })
      const promoted = await service.api("PATCH", `/api/v1/agents/${worker.body.id}`, { is_gateway_main: true })
      expect(promoted.status, JSON.stringify(promoted.body)).toBe(200)
      await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${worker.body.id}`)).body.state, POLL).toBe("updating.failed")
      const retired = `mc-${worker.body.id}`
      expect(simulator.state.agents.has(retired)).toBe(true)

      const answer = await adopt(service, gatewayId, { gateway_agent_id: retired, board_id: boardId, name: "Taken back" })
      expect(answer.status, JSON.stringify(answer.body)).toBe(409)
      expect(answer.body.detail).toContain(`is the old identity of agent ${worker.body.id}`)

      // A real orphan is listed, so reconciliation has run since; the retired agent is not.
      await createOnGateway(simulator, "mc-stray")
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.orphans, POLL).toContain("mc-stray")
      expect((await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body.orphans).not.toContain(retired)
    })
  })
})
