import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"

describe("boards and board leads (in-process service, simulated gateway)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let gatewayId: string

  const tokenOf = (gatewayAgentId: string) => readAuthToken(simulator.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")
  const asAgent = async (token: string, method: string, route: string, body?: unknown) => {
    const response = await fetch(`${service.url}${route}`, {
      method,
      headers: { "content-type": "application/json", "x-agent-token": token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: (await response.json()) as any }
  }
  const newBoard = async (name: string, extra: Record<string, unknown> = {}) => {
    const created = await service.api("POST", "/api/v1/boards", { name, gateway_id: gatewayId, ...extra })
    expect(created.status).toBe(201)
    return created.body as { id: string; max_agents: number }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000 })
    const gateway = await service.api("POST", "/api/v1/gateways", { name: "sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/ws" })
    gatewayId = gateway.body.id
  })
  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("creates, reads and patches a board's goal, and renders it into MEMORY.md", async () => {
    const board = await newBoard("Launch", {
      board_type: "goal",
      objective: "Ship v1 by spring",
      success_metrics: { signups: 1000 },
      target_date: "2027-03-01",
      max_agents: 2
    })
    expect(board).toMatchObject({
      board_type: "goal",
      objective: "Ship v1 by spring",
      success_metrics: { signups: 1000 },
      target_date: "2027-03-01",
      goal_confirmed: false,
      max_agents: 2,
      paused: false
    })
    const patched = await service.api("PATCH", `/api/v1/boards/${board.id}`, { goal_confirmed: true, paused: true })
    expect(patched.body).toMatchObject({ goal_confirmed: true, paused: true, objective: "Ship v1 by spring" })
    expect((await service.api("GET", `/api/v1/boards/${board.id}`)).body).toMatchObject({ goal_confirmed: true })

    const agent = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Mem", board_id: board.id })
    const memory = simulator.state.files.get(agent.body.gateway_agent_id)?.get("MEMORY.md") ?? ""
    expect(memory).toContain("Ship v1 by spring")
    expect(memory).toContain('{"signups":1000}')
    expect(memory).toContain("2027-03-01")
  })

  it("refuses bad goal fields with 422 and changes nothing", async () => {
    const board = await newBoard("Strict")
    for (const body of [{ target_date: "next week" }, { board_type: "sprint" }, { max_agents: -1 }, { gateway_id: gatewayId }]) {
      const answer = await service.api("PATCH", `/api/v1/boards/${board.id}`, body)
      expect(answer.status, JSON.stringify(body)).toBe(422)
    }
    expect((await service.api("GET", `/api/v1/boards/${board.id}`)).body).toMatchObject({ board_type: "general", max_agents: 1, target_date: null })
  })

  it("ensure lead creates lead-<board id> with a lead profile, and a second call returns the same lead", async () => {
    const board = await newBoard("Ops")
    const first = await service.api("POST", `/api/v1/boards/${board.id}/lead?wait_for=provisioning.awaiting&timeout_ms=20000`, {})
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({
      name: "Ops Lead",
      role: "lead",
      is_board_lead: true,
      gateway_agent_id: `lead-${board.id}`,
      session_key: `agent:lead-${board.id}:main`,
      identity_profile: { role: "Board Lead" }
    })
    expect(simulator.state.files.get(`lead-${board.id}`)?.get("AGENTS.md")).toContain("board lead")

    const again = await service.api("POST", `/api/v1/boards/${board.id}/lead`, {})
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(first.body.id)
    expect(again.body.state).toBe("provisioning.awaiting")

    const renamed = await service.api("POST", `/api/v1/boards/${board.id}/lead?wait_for=updating.awaiting&timeout_ms=20000`, { name: "Ops Captain" })
    expect(renamed.body).toMatchObject({ id: first.body.id, name: "Ops Captain", state: "updating.awaiting" })

    const second = await service.api("POST", "/api/v1/agents", { name: "Usurper", board_id: board.id, is_board_lead: true })
    expect(second.status).toBe(409)
  })

  it("concurrent ensure-lead calls all answer with the one lead", async () => {
    const board = await newBoard("Race")
    const answers = await Promise.all(Array.from({ length: 5 }, () => service.api("POST", `/api/v1/boards/${board.id}/lead`, {})))
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 201])
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1)
  })

  it("a lead creates workers on its own board up to max_agents; others may not", async () => {
    const board = await newBoard("Crew", { max_agents: 1 })
    const other = await newBoard("Elsewhere")
    const lead = await service.api("POST", `/api/v1/boards/${board.id}/lead?wait_for=provisioning.awaiting&timeout_ms=20000`, {})
    const leadToken = tokenOf(lead.body.gateway_agent_id)!

    const worker = await asAgent(leadToken, "POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Crew Worker" })
    expect(worker.status).toBe(201)
    expect(worker.body).toMatchObject({ board_id: board.id, role: "worker" })

    const beyond = await asAgent(leadToken, "POST", "/api/v1/agents", { name: "One Too Many" })
    expect(beyond.status).toBe(409)
    expect(beyond.body.detail).toContain("allows 1")
    expect((await asAgent(leadToken, "POST", "/api/v1/agents", { name: "Abroad", board_id: other.id })).status).toBe(403)
    expect((await asAgent(leadToken, "POST", "/api/v1/agents", { name: "Deputy", is_board_lead: true })).status).toBe(403)

    const workerToken = tokenOf(worker.body.gateway_agent_id)!
    expect((await asAgent(workerToken, "POST", "/api/v1/agents", { name: "Minion" })).status).toBe(403)
    const names = (await service.api("GET", `/api/v1/agents?board_id=${board.id}`)).body.items.map((agent: { name: string }) => agent.name)
    expect(names.sort()).toEqual(["Crew Lead", "Crew Worker"])
  })

  it("concurrent creates by a lead never pass max_agents together", async () => {
    const board = await newBoard("Cap race", { max_agents: 2 })
    const lead = await service.api("POST", `/api/v1/boards/${board.id}/lead?wait_for=provisioning.awaiting&timeout_ms=20000`, {})
    const leadToken = tokenOf(lead.body.gateway_agent_id)!
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => asAgent(leadToken, "POST", "/api/v1/agents", { name: `Racer ${i}` })))
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 409, 409, 409, 409])
    for (const refused of answers.filter((answer) => answer.status === 409)) expect(refused.body.detail).toContain("allows 2")
    expect((await service.api("GET", `/api/v1/agents?board_id=${board.id}`)).body.total).toBe(3)
  })

  it("deleting a board with agents is a 409; an empty board is deleted", async () => {
    const busy = await newBoard("Busy")
    await service.api("POST", "/api/v1/agents", { name: "Busy Bee", board_id: busy.id })
    expect((await service.api("DELETE", `/api/v1/boards/${busy.id}`)).status).toBe(409)
    const empty = await newBoard("Empty")
    expect((await service.api("DELETE", `/api/v1/boards/${empty.id}`)).status).toBe(200)
    expect((await service.api("GET", `/api/v1/boards/${empty.id}`)).status).toBe(404)
  })

  it("tasks: create, list, patch; assignees must be agents of the board", async () => {
    const board = await newBoard("Tasks", { max_agents: 5 })
    const other = await newBoard("Other Tasks")
    const worker = await service.api("POST", "/api/v1/agents", { name: "Tasker", board_id: board.id })
    const stranger = await service.api("POST", "/api/v1/agents", { name: "Stranger", board_id: other.id })

    const task = await service.api("POST", `/api/v1/boards/${board.id}/tasks`, { title: "Write the launch post", assigned_agent_id: worker.body.id })
    expect(task.status).toBe(201)
    expect(task.body).toMatchObject({ title: "Write the launch post", status: "inbox", assigned_agent_id: worker.body.id, board_id: board.id })
    expect((await service.api("POST", `/api/v1/boards/${board.id}/tasks`, { title: "x", assigned_agent_id: stranger.body.id })).status).toBe(422)
    expect((await service.api("POST", `/api/v1/boards/${board.id}/tasks`, { title: "x", status: "blocked" })).status).toBe(422)

    const moved = await service.api("PATCH", `/api/v1/boards/${board.id}/tasks/${task.body.id}`, { status: "in_progress" })
    expect(moved.body).toMatchObject({ status: "in_progress", assigned_agent_id: worker.body.id })
    expect((await service.api("PATCH", `/api/v1/boards/${other.id}/tasks/${task.body.id}`, { status: "done" })).status).toBe(404)
    const listed = await service.api("GET", `/api/v1/boards/${board.id}/tasks?status=in_progress`)
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([task.body.id])
  })

  it("deleting an agent sends its in-progress tasks back to the inbox unassigned and unassigns the rest", async () => {
    const board = await newBoard("Handover", { max_agents: 5 })
    const worker = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Leaver", board_id: board.id })
    const task = (title: string, status: string) =>
      service.api("POST", `/api/v1/boards/${board.id}/tasks`, { title, status, assigned_agent_id: worker.body.id }).then((answer) => answer.body.id as string)
    const doing = await task("doing", "in_progress")
    const reviewing = await task("reviewing", "review")

    const deleted = await service.api("DELETE", `/api/v1/agents/${worker.body.id}?wait_for=deleted&timeout_ms=20000`)
    expect(deleted.body.status).toBe("deleted")
    const tasks = (await service.api("GET", `/api/v1/boards/${board.id}/tasks`)).body.items as Array<{ id: string; status: string; assigned_agent_id: string | null }>
    expect(tasks.find((t) => t.id === doing)).toMatchObject({ status: "inbox", assigned_agent_id: null })
    expect(tasks.find((t) => t.id === reviewing)).toMatchObject({ status: "review", assigned_agent_id: null })
  })

  it("an agent's activity: lifecycle changes newest first, paginated, none per heartbeat, kept after delete", async () => {
    const board = await newBoard("Audit", { max_agents: 5 })
    const agent = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Audited", board_id: board.id })
    const token = tokenOf(agent.body.gateway_agent_id)!
    for (let i = 0; i < 5; i++) expect((await asAgent(token, "POST", "/api/v1/agent/heartbeat")).status).toBe(200)
    await service.api("DELETE", `/api/v1/agents/${agent.body.id}?wait_for=deleted&timeout_ms=20000`)

    const log = await service.api("GET", `/api/v1/agents/${agent.body.id}/activity`)
    expect(log.status).toBe(200)
    expect(log.body.items.map((entry: { event_type: string }) => entry.event_type)).toEqual(["agent.deleted", "agent.deleting", "agent.online", "agent.created"])
    expect(log.body).toMatchObject({ total: 4, limit: 50, offset: 0 })
    expect(log.body.items[2].message).toContain("provisioning → online")
    expect(log.body.items[3].message).toBe(`Audited: created as worker ${agent.body.gateway_agent_id}`)
    const page = await service.api("GET", `/api/v1/agents/${agent.body.id}/activity?limit=1&offset=1`)
    expect(page.body.items.map((entry: { event_type: string }) => entry.event_type)).toEqual(["agent.deleting"])
    expect((await service.api("GET", `/api/v1/agents/00000000-0000-4000-8000-000000000000/activity`)).status).toBe(404)
  })
})
