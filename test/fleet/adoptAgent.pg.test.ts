import { randomUUID } from "node:crypto"
import { describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import type { InProcessService } from "../support/inProcessService.ts"
import { createOnGateway } from "../support/createOnGateway.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * `POST /api/v1/gateways/{id}/agents/adopt` on the simulator (docs/operations.md §6.2 "Adopt"):
 * an agent created on the gateway behind Switchyard's back is taken over without
 * `agents.create`, keeps its files but AGENTS.md, gets its heartbeat config, is woken and comes
 * online with one curl-back; every refusal leaves the gateway and the read model as they were.
 */
const POLL = { timeout: 15_000, interval: 50 }
const SOUL = "# SOUL\nI was here before Switchyard.\n"

const adopt = (service: InProcessService, gatewayId: string, body: Record<string, unknown>, query = "") =>
  service.api("POST", `/api/v1/gateways/${gatewayId}/agents/adopt${query}`, body)

describe("adopting a gateway agent", () => {
  it("takes the agent over without agents.create, keeps its files but AGENTS.md, pushes its heartbeat and wakes it", async () => {
    await withSimulatedStack({ boardName: "Adopt" }, async ({ service, simulator, gatewayId, boardId }) => {
      await createOnGateway(simulator, "research-bot", { "SOUL.md": SOUL })
      const before = new Map(simulator.state.files.get("research-bot"))
      const creates = simulator.countOf("agents.create")

      const adopted = await adopt(service, gatewayId, { gateway_agent_id: "research-bot", board_id: boardId, name: "Researcher", heartbeat_config: { every: "0m" } }, "?wait_for=provisioning.awaiting&timeout_ms=15000")
      expect(adopted.status, JSON.stringify(adopted.body)).toBe(201)
      expect(adopted.body).toMatchObject({ name: "Researcher", board_id: boardId, role: "worker", gateway_agent_id: "research-bot", session_key: "agent:research-bot:main", state: "provisioning.awaiting" })

      expect(simulator.countOf("agents.create")).toBe(creates)
      const files = simulator.state.files.get("research-bot")!
      expect(files.get("SOUL.md")).toBe(SOUL)
      for (const [name, content] of before) if (name !== "AGENTS.md") expect(files.get(name), name).toBe(content)
      expect(files.get("AGENTS.md")).not.toBe(before.get("AGENTS.md"))
      // Where the gateway keeps the agent, not where the naming contract would put one of ours.
      expect(files.get("AGENTS.md")).toContain(`\`${simulator.state.agents.get("research-bot")!.workspace}\``)
      const token = readAuthToken(files.get("AGENTS.md") ?? "")
      expect(token).toBeDefined()
      expect(simulator.state.config).toMatchObject({ agents: { entries: { "research-bot": { name: "Researcher", heartbeat: { every: "0m" } } } } })
      expect(simulator.chatSendKeys("research-bot").length).toBe(1)

      const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
      expect(beat.status).toBe(200)
      await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${adopted.body.id}`)).body.status, POLL).toBe("online")
    })
  })

  it("with keep_files false renders SOUL.md and IDENTITY.md as a create does", async () => {
    await withSimulatedStack({ boardName: "Rewrite" }, async ({ service, simulator, gatewayId, boardId }) => {
      await createOnGateway(simulator, "rewrite-me", { "SOUL.md": SOUL })
      const adopted = await adopt(service, gatewayId, { gateway_agent_id: "rewrite-me", board_id: boardId, name: "Rewritten", keep_files: false }, "?wait_for=provisioning.awaiting&timeout_ms=15000")
      expect(adopted.status, JSON.stringify(adopted.body)).toBe(201)
      const files = simulator.state.files.get("rewrite-me")!
      expect(files.get("SOUL.md")).not.toBe(SOUL)
      expect(files.get("IDENTITY.md")).toContain("Rewritten")
    })
  })

  it("refuses an unknown gateway, a board elsewhere, an agent the gateway lacks, its default agent, a managed agent and a taken name, changing nothing", async () => {
    await withSimulatedStack({ boardName: "Refusals" }, async ({ service, simulator, gatewayId, boardId }) => {
      await createOnGateway(simulator, "stray", { "SOUL.md": SOUL })
      const agentsBefore = (await service.api("GET", "/api/v1/agents")).body
      const callsBefore = simulator.calls.filter((call) => call.method !== "agents.list" && call.method !== "health").length
      const filesBefore = JSON.stringify([...simulator.state.files.get("stray")!])
      const main = agentsBefore.items.find((agent: { role: string }) => agent.role === "main")
      const body = { gateway_agent_id: "stray", board_id: boardId, name: "Stray" }

      const refusals: Array<[Record<string, unknown>, string, number, string]> = [
        [body, randomUUID(), 404, "gateway not found"],
        [{ ...body, board_id: randomUUID() }, gatewayId, 422, "board_id: no board"],
        [{ ...body, gateway_agent_id: "nobody-here" }, gatewayId, 422, 'has no agent "nobody-here"'],
        [{ ...body, gateway_agent_id: "main" }, gatewayId, 422, "default agent"],
        [{ ...body, gateway_agent_id: main.gateway_agent_id }, gatewayId, 409, "already managed"],
        [{ ...body, name: main.name }, gatewayId, 409, "already exists on this gateway"]
      ]
      for (const [request, gateway, status, detail] of refusals) {
        const answer = await adopt(service, gateway, request)
        expect(answer.status, JSON.stringify(answer.body)).toBe(status)
        expect(answer.body.detail).toContain(detail)
      }
      expect((await adopt(service, gatewayId, { ...body, keep_files: "yes" })).status).toBe(422)

      expect((await service.api("GET", "/api/v1/agents")).body).toEqual(agentsBefore)
      expect(simulator.calls.filter((call) => call.method !== "agents.list" && call.method !== "health").length).toBe(callsBefore)
      expect(JSON.stringify([...simulator.state.files.get("stray")!])).toBe(filesBefore)
    })
  })
})
