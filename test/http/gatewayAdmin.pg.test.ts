import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DEFAULT_GATEWAY_MIN_VERSION } from "../../src/config/AppConfig.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** Nothing listens on port 1 of loopback: connecting is refused at once. */
const UNREACHABLE = "ws://127.0.0.1:1"

const TERMINAL = { code: "INVALID_REQUEST", message: "agents.delete refused (test)", retryable: false }

describe("gateway lifecycle: runtime check, main agent, conversion, delete (in-process service, simulated gateway)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  const extra: Array<GatewaySimulator> = []

  const api = (method: string, route: string, body?: unknown) => service.api(method, route, body)
  const gatewayCount = async () => (await api("GET", "/api/v1/gateways")).body.total as number
  const register = (gateway: { url: string; token: string }, name: string) =>
    api("POST", "/api/v1/gateways", { name, url: gateway.url, token: gateway.token, workspace_root: `/srv/${name.replaceAll(" ", "-")}` })
  const stateOf = async (agentId: string) => (await api("GET", `/api/v1/agents/${agentId}`)).body.state as string | undefined
  const reaches = (agentId: string, state: string) => expect.poll(() => stateOf(agentId), { timeout: 20_000, interval: 20 }).toBe(state)
  const simulatorWith = async (options: Parameters<typeof startGatewaySimulator>[0] = {}) => {
    const started = await startGatewaySimulator(options)
    extra.push(started)
    return started
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50, maxAttempts: 2, gatewayCallTimeoutMs: 3_000 })
  })
  afterAll(async () => {
    await service?.stop()
    for (const started of [simulator, ...extra]) await started?.stop()
    await db?.drop()
  })

  it("create checks the gateway, stores it and provisions its main agent (mc-gateway-<id>, no board)", async () => {
    const created = await register(simulator, "Primary")
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: "Primary", status: "active", runtime: { server_version: "2026.9.6", protocol: 4, version_checked: true }, pairing: null })
    expect(created.body).not.toHaveProperty("token")
    const mainId = created.body.main_agent_id as string
    await reaches(mainId, "provisioning.awaiting")
    const main = (await api("GET", `/api/v1/agents/${mainId}`)).body
    expect(main).toMatchObject({
      role: "main",
      is_gateway_main: true,
      board_id: null,
      gateway_id: created.body.id,
      gateway_agent_id: `mc-gateway-${created.body.id}`,
      session_key: `agent:mc-gateway-${created.body.id}:main`,
      name: "Primary Gateway Agent"
    })
    const agentsMd = simulator.state.files.get(`mc-gateway-${created.body.id}`)?.get("AGENTS.md") ?? ""
    expect(readAuthToken(agentsMd)).toMatch(/^sy_/)

    // A check re-runs the probe and finds the same main agent.
    const checked = await api("POST", `/api/v1/gateways/${created.body.id}/check`)
    expect(checked.status).toBe(200)
    expect(checked.body.main_agent_id).toBe(mainId)
    expect((await api("GET", `/api/v1/agents?gateway_id=${created.body.id}`)).body.total).toBe(1)
  })

  it("refuses a gateway that is too old (422) or unreachable (502), storing nothing; a dev build passes on its protocol", async () => {
    const before = await gatewayCount()
    const old = await simulatorWith({ version: "2026.8.1" })
    const tooOld = await register(old, "Too old")
    expect(tooOld.status).toBe(422)
    expect(tooOld.body.detail).toContain(`2026.8.1 is older than the minimum ${DEFAULT_GATEWAY_MIN_VERSION}`)
    const unreachable = await api("POST", "/api/v1/gateways", { name: "Nowhere", url: UNREACHABLE, token: "t", workspace_root: "/srv/x" })
    expect(unreachable.status).toBe(502)
    expect(unreachable.body.detail).toContain("unreachable")
    const wrongToken = await register({ url: simulator.url, token: "not-the-token" }, "Wrong token")
    expect(wrongToken.status).toBe(422)
    expect(JSON.stringify(wrongToken.body)).not.toContain(simulator.token)
    expect(await gatewayCount()).toBe(before)
    expect(old.countOf("agents.create")).toBe(0)

    const dev = await simulatorWith({ version: "dev" })
    const accepted = await register(dev, "Dev build")
    expect(accepted.status).toBe(201)
    expect(accepted.body.runtime).toMatchObject({ server_version: "dev", version_checked: false })
  })

  it("PATCH re-checks a new url or token before storing it; a refused one changes nothing", async () => {
    const target = await simulatorWith()
    const created = await register(target, "Patched")
    await reaches(created.body.main_agent_id, "provisioning.awaiting")
    const refused = await api("PATCH", `/api/v1/gateways/${created.body.id}`, { url: UNREACHABLE })
    expect(refused.status).toBe(502)
    expect((await api("GET", `/api/v1/gateways/${created.body.id}`)).body.url).toBe(target.url)

    const moved = await simulatorWith({ token: target.token })
    const patched = await api("PATCH", `/api/v1/gateways/${created.body.id}`, { url: moved.url })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ url: moved.url, runtime: { protocol: 4 } })
    // The main agent is re-applied on the new address.
    await expect.poll(() => moved.state.agents.has(`mc-gateway-${created.body.id}`), { timeout: 20_000, interval: 20 }).toBe(true)

    const renamed = await api("PATCH", `/api/v1/gateways/${created.body.id}`, { name: "Patched again" })
    expect(renamed).toMatchObject({ status: 200, body: { name: "Patched again", runtime: null } })
  })

  it("converts a board agent to the gateway main and back; the old gateway agent is removed each time", async () => {
    const target = await simulatorWith()
    const created = await register(target, "Converting")
    const gatewayId = created.body.id as string
    const oldMain = created.body.main_agent_id as string
    await reaches(oldMain, "provisioning.awaiting")
    const board = (await api("POST", "/api/v1/boards", { name: "Conv", gateway_id: gatewayId })).body
    const worker = (await api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Wanda", board_id: board.id })).body
    expect(worker.state).toBe("provisioning.awaiting")

    // One main agent per gateway.
    const taken = await api("PATCH", `/api/v1/agents/${worker.id}`, { is_gateway_main: true })
    expect(taken.status).toBe(409)
    expect(taken.body.detail).toContain(oldMain)
    expect((await api("PATCH", `/api/v1/agents/${oldMain}`, { is_gateway_main: false })).status).toBe(422)
    expect((await api("PATCH", `/api/v1/agents/${worker.id}`, { board_id: board.id })).status).toBe(422)

    const demoted = await api("PATCH", `/api/v1/agents/${oldMain}?wait_for=updating.awaiting&timeout_ms=20000`, {
      is_gateway_main: false,
      board_id: board.id
    })
    expect(demoted.status).toBe(200)
    expect(demoted.body).toMatchObject({ role: "worker", board_id: board.id, gateway_agent_id: `mc-${oldMain}` })
    await reaches(oldMain, "updating.awaiting")
    expect(target.state.agents.has(`mc-gateway-${gatewayId}`)).toBe(false)
    expect(target.state.agents.has(`mc-${oldMain}`)).toBe(true)

    const promoted = await api("PATCH", `/api/v1/agents/${worker.id}`, { is_gateway_main: true })
    expect(promoted.status).toBe(200)
    expect(promoted.body).toMatchObject({ role: "main", board_id: null, gateway_agent_id: `mc-gateway-${gatewayId}` })
    await reaches(worker.id, "updating.awaiting")
    expect(target.state.agents.has(`mc-${worker.id}`)).toBe(false)
    const agentsMd = target.state.files.get(`mc-gateway-${gatewayId}`)?.get("AGENTS.md") ?? ""
    const token = readAuthToken(agentsMd)
    const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": token ?? "" }, body: "{}" })
    expect(beat.status).toBe(200)
    expect(await stateOf(worker.id)).toBe("online")
  })

  it("a refused PATCH changes nothing: a rename with a conversion that is refused leaves the name as it was", async () => {
    const target = await simulatorWith()
    const created = await register(target, "All or nothing")
    const gatewayId = created.body.id as string
    const main = created.body.main_agent_id as string
    await reaches(main, "provisioning.awaiting")
    const board = (await api("POST", "/api/v1/boards", { name: "Aon", gateway_id: gatewayId })).body
    const worker = (await api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Xena", board_id: board.id })).body
    const nameOf = async (id: string) => (await api("GET", `/api/v1/agents/${id}`)).body.name as string

    // To a board without naming the board: 422, and the main agent keeps its name.
    const noBoard = await api("PATCH", `/api/v1/agents/${main}`, { name: "Renamed Main", is_gateway_main: false })
    expect(noBoard.status).toBe(422)
    expect(noBoard.body.detail).toContain("board_id")
    expect(await nameOf(main)).toBe("All or nothing Gateway Agent")
    // The name was not claimed either: another agent may take it.
    const free = await api("PATCH", `/api/v1/agents/${worker.id}`, { name: "Renamed Main" })
    expect(free.status).toBe(200)
    expect(await nameOf(worker.id)).toBe("Renamed Main")

    // To main while the gateway has one: 409, and the worker keeps its name.
    const taken = await api("PATCH", `/api/v1/agents/${worker.id}`, { name: "Would-be Main", is_gateway_main: true })
    expect(taken.status).toBe(409)
    expect(await nameOf(worker.id)).toBe("Renamed Main")
    expect((await api("GET", `/api/v1/agents/${worker.id}`)).body).toMatchObject({ role: "worker", board_id: board.id })
  })

  it("delete removes every agent we made from the gateway, main last, then the row; nothing new lands meanwhile", async () => {
    const target = await simulatorWith({ latencyMs: 20 })
    const created = await register(target, "Doomed")
    const gatewayId = created.body.id as string
    const board = (await api("POST", "/api/v1/boards", { name: "Doomed board", gateway_id: gatewayId })).body
    const lead = (await api("POST", `/api/v1/boards/${board.id}/lead`, {})).body
    const workers = await Promise.all(["W1", "W2"].map((name) => api("POST", "/api/v1/agents", { name, board_id: board.id })))
    const ids = [created.body.main_agent_id, lead.id, ...workers.map((worker) => worker.body.id)] as Array<string>
    for (const id of ids) await reaches(id, "provisioning.awaiting")
    expect([...target.state.agents.keys()].filter((id) => id !== "main")).toHaveLength(4)

    const deleting = await api("DELETE", `/api/v1/gateways/${gatewayId}`)
    expect(deleting.status).toBe(202)
    expect(deleting.body).toMatchObject({ status: "deleting", agents_remaining: 4 })
    expect((await api("POST", "/api/v1/boards", { name: "Late", gateway_id: gatewayId })).status).toBe(409)
    expect((await api("POST", "/api/v1/agents", { name: "Late", board_id: board.id })).status).toBe(409)

    await expect.poll(async () => (await api("GET", `/api/v1/gateways/${gatewayId}`)).status, { timeout: 20_000, interval: 50 }).toBe(404)
    expect([...target.state.agents.keys()]).toEqual(["main"])
    for (const id of ids) expect((await api("GET", `/api/v1/agents/${id}`)).status).toBe(404)
    // The main agent went last: it was still there for every board agent's cleanup request.
    const deletes = target.calls.filter((call) => call.method === "agents.delete").map((call) => (call.params as { agentId: string }).agentId)
    expect(deletes.at(-1)).toBe(`mc-gateway-${gatewayId}`)
  })

  it("a delete the gateway refuses leaves the gateway deleting with its agents visible; force removes them locally", async () => {
    const target = await simulatorWith()
    const created = await register(target, "Stubborn")
    const gatewayId = created.body.id as string
    const mainId = created.body.main_agent_id as string
    await reaches(mainId, "provisioning.awaiting")
    target.inject({ method: "agents.delete", error: TERMINAL, times: 100 })

    expect((await api("DELETE", `/api/v1/gateways/${gatewayId}`)).status).toBe(202)
    await reaches(mainId, "deleting.failed")
    expect((await api("GET", `/api/v1/agents/${mainId}`)).body.last_error).toMatchObject({ step: "remove", message: expect.stringContaining("refused (test)") })
    expect((await api("GET", `/api/v1/gateways/${gatewayId}`)).body).toMatchObject({ status: "deleting" })

    const forced = await api("DELETE", `/api/v1/gateways/${gatewayId}?force=true`)
    expect([200, 202]).toContain(forced.status)
    await expect.poll(async () => (await api("GET", `/api/v1/gateways/${gatewayId}`)).status, { timeout: 20_000, interval: 50 }).toBe(404)
    // Forced: the gateway still holds the agent, as the operator chose.
    expect(target.state.agents.has(`mc-gateway-${gatewayId}`)).toBe(true)
  })
})
