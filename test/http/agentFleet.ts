import { expect } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import type { InProcessService } from "../support/inProcessService.ts"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** An agent as the tests use it: its ids, name and agent token (read from its AGENTS.md on the simulator). */
export interface FleetAgent {
  readonly id: string
  readonly name: string
  readonly token: string
  readonly boardId: string | null
  readonly gatewayId: string
}

/**
 * Two gateways on one simulator: gateway `home` (main agent `main`) with board `board` (lead
 * `lead`, workers `ada`, `bob`, `bobby`) and board `side` (worker `carol`), and gateway `away`
 * (main agent `awayMain`) with board `far` (worker `dave`). Every agent waits for its check-in.
 */
export const createFleet = async (service: InProcessService, simulator: GatewaySimulator) => {
  const { api } = service
  // A plain loop: expect.poll is not allowed in beforeAll.
  const reaches = async (id: string, state: string) => {
    const deadline = Date.now() + 30_000
    while ((await api("GET", `/api/v1/agents/${id}`)).body.state !== state) {
      if (Date.now() > deadline) throw new Error(`agent ${id} did not reach ${state}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const agentOf = async (id: string): Promise<FleetAgent> => {
    await reaches(id, "provisioning.awaiting")
    const view = (await api("GET", `/api/v1/agents/${id}`)).body
    const token = readAuthToken(simulator.state.files.get(view.gateway_agent_id)?.get("AGENTS.md") ?? "")
    expect(token).toMatch(/^sy_/)
    return { id, name: view.name, token: token!, boardId: view.board_id, gatewayId: view.gateway_id }
  }
  const gateway = async (name: string) => {
    const created = await api("POST", "/api/v1/gateways", { name, url: simulator.url, token: simulator.token, workspace_root: `/srv/${name}` })
    expect(created.status).toBe(201)
    return { id: created.body.id as string, main: await agentOf(created.body.main_agent_id) }
  }
  const board = async (name: string, gatewayId: string) => {
    const created = await api("POST", "/api/v1/boards", { name, gateway_id: gatewayId })
    expect(created.status).toBe(201)
    return created.body.id as string
  }
  const agent = async (name: string, boardId: string, lead = false) => {
    const created = await api("POST", "/api/v1/agents", { name, board_id: boardId, is_board_lead: lead })
    expect(created.status).toBe(201)
    return agentOf(created.body.id)
  }

  const home = await gateway("home")
  const away = await gateway("away")
  const boardId = await board("Launch", home.id)
  const sideId = await board("Side", home.id)
  const farId = await board("Far", away.id)
  const [lead, ada, bob, bobby, carol, dave] = await Promise.all([
    agent("Lead", boardId, true),
    agent("Ada", boardId),
    agent("Bob", boardId),
    agent("Bobby", boardId),
    agent("Carol", sideId),
    agent("Dave", farId)
  ])
  return {
    gateways: { home: home.id, away: away.id },
    boards: { board: boardId, side: sideId, far: farId },
    agents: { main: home.main, awayMain: away.main, lead, ada, bob, bobby, carol, dave }
  }
}

export type Fleet = Awaited<ReturnType<typeof createFleet>>

/** Issues (or rotates) the agent's inbox key as the admin; returns the key shown once. */
export const issueInboxKey = async (service: InProcessService, agentId: string): Promise<string> => {
  const issued = await service.api("POST", `/api/v1/agents/${agentId}/api-key`)
  expect(issued.status).toBe(201)
  return issued.body.api_key as string
}

/** A JSON call with exactly `headers` (no admin token unless given). */
export const callWith = async (baseUrl: string, method: string, route: string, headers: Record<string, string>, body?: unknown) => {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as any }
}
