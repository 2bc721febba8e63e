import { randomUUID } from "node:crypto"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"

interface Answer {
  readonly status: number
  readonly body: any
  readonly contentType: string | null
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** States an agent rests in without a call to the gateway. */
const QUIET = new Set(["provisioning.awaiting", "online", "offline"])

describe("HTTP API /api/v1 (in-process service, simulated gateway)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  /** Every response body this file received, to check that no secret ever leaks. */
  const seen: Array<string> = []

  /** A call with exactly `headers` (no admin token unless given). */
  const call = async (method: string, route: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> => {
    const response = await fetch(`${service.url}${route}`, {
      method,
      headers: { "content-type": "application/json", ...options.headers },
      ...(options.body === undefined ? {} : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) })
    })
    const text = await response.text()
    seen.push(text)
    return { status: response.status, body: text === "" ? null : JSON.parse(text), contentType: response.headers.get("content-type") }
  }
  /** An admin call. */
  const admin = async (method: string, route: string, body?: unknown) => {
    const answer = await service.api(method, route, body)
    seen.push(JSON.stringify(answer.body))
    return answer
  }
  const asAgent = (token: string, method: string, route: string, body?: unknown) => call(method, route, { headers: { "x-agent-token": token }, body })
  const tokenOf = (agentId: string) => readAuthToken(simulator.state.files.get(`mc-${agentId}`)?.get("AGENTS.md") ?? "")
  /** The board agents (each gateway's main agent is left out: these tests are about board agents). */
  const listAll = async () => {
    const page = (await admin("GET", "/api/v1/agents")).body as { items: Array<{ id: string; name: string; state: string; version: number; role: string }> }
    const items = page.items.filter((agent) => agent.role !== "main")
    return { items, total: items.length }
  }
  /** Waits until no agent is doing gateway work, so the simulator's call log is still. */
  const quiet = () =>
    expect
      .poll(async () => (await listAll()).items.filter((agent) => !QUIET.has(agent.state)).map((agent) => `${agent.name}: ${agent.state}`), { timeout: 30_000, interval: 50 })
      .toEqual([])

  let gatewayId: string
  let boardId: string
  let otherGatewayId: string
  let otherBoardId: string
  let ada: { id: string; token: string }
  let bob: { id: string; token: string }

  /** Creates an agent, waits for it to await its check-in, and reads its token from AGENTS.md on the simulator. */
  const provisioned = async (name: string, board: string) => {
    const created = await admin("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name, board_id: board })
    expect(created.status).toBe(201)
    expect(created.body.state).toBe("provisioning.awaiting")
    const token = tokenOf(created.body.id)
    expect(token).toMatch(/^sy_/)
    return { id: created.body.id as string, token: token! }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50, gatewayCallTimeoutMs: 5_000 })
    const gateway = await admin("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status).toBe(201)
    gatewayId = gateway.body.id
    const other = await admin("POST", "/api/v1/gateways", { name: "Sim two", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/other" })
    expect(other.status).toBe(201)
    otherGatewayId = other.body.id
    // Each gateway's main agent provisions at once; later call counts must not see it.
    for (const main of [gateway.body.main_agent_id, other.body.main_agent_id]) {
      const deadline = Date.now() + 30_000
      while ((await admin("GET", `/api/v1/agents/${main}`)).body.state !== "provisioning.awaiting") {
        if (Date.now() > deadline) throw new Error(`main agent ${main} did not provision`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    boardId = (await admin("POST", "/api/v1/boards", { name: "Main", gateway_id: gatewayId })).body.id
    otherBoardId = (await admin("POST", "/api/v1/boards", { name: "Elsewhere", gateway_id: otherGatewayId })).body.id
    expect(boardId).toMatch(UUID)
    expect(otherBoardId).toMatch(UUID)
    // Two board agents every case may use, awaiting their check-in (each case runs alone too).
    ada = await provisioned("Ada", boardId)
    bob = await provisioned("Bob", boardId)
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("/healthz and /readyz answer 200", async () => {
    expect((await call("GET", "/healthz")).status).toBe(200)
    await expect.poll(async () => (await call("GET", "/readyz")).status, { timeout: 10_000, interval: 50 }).toBe(200)
    expect((await call("GET", "/readyz")).body).toEqual({ ok: true })
  })

  it("GET /api/v1/machines/agent describes the agent machine as JSON", async () => {
    const machine = await call("GET", "/api/v1/machines/agent")
    expect(machine.status).toBe(200)
    expect(machine.contentType).toContain("application/json")
    expect(machine.body).toMatchObject({ id: "agent", version: "1", initial: "provisioning" })
    expect(Object.keys(machine.body.states)).toEqual(expect.arrayContaining(["provisioning", "online", "updating", "offline", "deleting"]))
    expect(Object.keys(machine.body.states.provisioning.states)).toEqual(expect.arrayContaining(["applying", "retrying", "wakeRetrying", "waking", "awaiting", "failed"]))
    expect(machine.body.states.provisioning.states.applying.invoke.src).toBe("applyAgent")
  })

  it("POST /api/v1/agents → 201 in a provisioning state, then the agent awaits its check-in", async () => {
    const created = await admin("POST", "/api/v1/agents", { name: "Ann", board_id: boardId })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: "Ann", board_id: boardId, gateway_id: gatewayId, status: "provisioning", role: "worker", is_board_lead: false })
    expect(created.body.id).toMatch(UUID)
    expect(created.body.state).toMatch(/^provisioning\./)
    await expect.poll(async () => (await admin("GET", `/api/v1/agents/${created.body.id}`)).body.state, { timeout: 30_000, interval: 50 }).toBe("provisioning.awaiting")
    expect(tokenOf(created.body.id)).toMatch(/^sy_/)
    // Gone again, so the counts of the other cases do not depend on this one.
    expect((await admin("DELETE", `/api/v1/agents/${created.body.id}?wait_for=deleted&timeout_ms=30000`)).status).toBe(200)
  })

  it("401 without or with bad credentials; 403 for an agent token on admin routes", async () => {
    for (const [method, route] of [["GET", "/api/v1/agents"], ["POST", "/api/v1/agents"], ["GET", "/api/v1/gateways"], ["GET", `/api/v1/agents/${ada.id}`], ["POST", "/api/v1/agent/heartbeat"]] as const) {
      const anonymous = await call(method, route, { body: method === "POST" ? { name: "Eve", board_id: boardId } : undefined })
      expect(anonymous.status, `${method} ${route}`).toBe(401)
      expect(anonymous.body).toEqual({ detail: "missing or invalid credentials" })
    }
    expect((await call("GET", "/api/v1/agents", { headers: { authorization: "Bearer not-the-admin-token" } })).status).toBe(401)
    expect((await call("GET", "/api/v1/agents", { headers: { authorization: "Basic dXNlcjpwYXNz" } })).status).toBe(401)
    expect((await call("GET", "/api/v1/agents", { headers: { "x-agent-token": "sy_forged" } })).status).toBe(401)
    expect((await asAgent("sy_forged", "POST", "/api/v1/agent/heartbeat")).status).toBe(401)

    for (const [method, route, body] of [
      ["GET", "/api/v1/agents", undefined],
      ["GET", `/api/v1/agents/${bob.id}`, undefined],
      ["POST", "/api/v1/agents", { name: "Eve", board_id: boardId }],
      ["DELETE", `/api/v1/agents/${bob.id}`, undefined],
      ["POST", "/api/v1/gateways", { name: "Evil", url: "ws://127.0.0.1:9", token: "x", workspace_root: "/x" }],
      ["GET", "/api/v1/boards", undefined]
    ] as const) {
      const forbidden = await asAgent(ada.token, method, route, body)
      expect(forbidden.status, `${method} ${route}`).toBe(403)
      // A lead may create agents, so a worker asking to is told that, not that it is no admin.
      expect(forbidden.body).toEqual({ detail: route === "/api/v1/agents" && method === "POST" ? "only a board lead may create agents" : "admin token required" })
    }
    // An agent token may also travel as a bearer; it is still not the admin's.
    expect((await call("GET", "/api/v1/agents", { headers: { authorization: `Bearer ${ada.token}` } })).status).toBe(403)
    const page = await listAll()
    expect(page.total).toBe(2)
    expect(page.items.map((agent) => agent.name).sort()).toEqual(["Ada", "Bob"])
    expect((await admin("GET", `/api/v1/agents/${bob.id}`)).body.status).toBe("provisioning")
    expect((await admin("POST", "/api/v1/agent/heartbeat")).body).toEqual({ detail: "agent token required" })
  })

  it("422 for bad input, with a clear detail, and nothing changes", async () => {
    await quiet()
    const before = { agents: await listAll(), calls: simulator.calls.length, ada: (await admin("GET", `/api/v1/agents/${ada.id}`)).body }
    const gatewaysBefore = (await admin("GET", "/api/v1/gateways")).body.total
    const boardsBefore = (await admin("GET", "/api/v1/boards")).body.total
    const rejected = async (method: string, route: string, body: unknown, mentions: ReadonlyArray<string>) => {
      const answer = await admin(method, route, body)
      expect(answer.status, `${method} ${route} ${JSON.stringify(body)}`).toBe(422)
      expect(typeof answer.body.detail).toBe("string")
      for (const text of mentions) expect(answer.body.detail, `${method} ${route}`).toContain(text)
      return answer
    }

    const unknownField = await rejected("POST", "/api/v1/agents", { name: "Eve", board_id: boardId, colour: "red" }, ["colour"])
    expect(unknownField.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining("colour") })]))
    await rejected("POST", "/api/v1/agents", { name: "Eve", board_id: boardId, heartbeat_config: { every: "often" } }, ["heartbeat_config.every", "30s"])
    await rejected("POST", "/api/v1/agents", { name: "Eve", board_id: boardId, heartbeat_config: { every: "10m", target: "everyone" } }, ["heartbeat_config.target"])
    await rejected("POST", "/api/v1/agents", { name: "Eve", board_id: "not-a-uuid" }, ["board_id"])
    await rejected("POST", "/api/v1/agents", { name: "Eve", board_id: randomUUID() }, ["board_id", "no board"])
    await rejected("POST", "/api/v1/agents", { name: "   ", board_id: boardId }, ["name"])
    await rejected("POST", "/api/v1/agents", { board_id: boardId }, ["name"])
    await rejected("POST", "/api/v1/agents", '{"name": "Eve", "board_id": ', ["not valid JSON"])
    await rejected("POST", "/api/v1/agents", "[1, 2", ["not valid JSON"])
    await rejected("POST", "/api/v1/agents?wait_for=nonsense", { name: "Eve", board_id: boardId }, ["wait_for", "nonsense"])
    await rejected("POST", "/api/v1/agents?wait_for=Online!", { name: "Eve", board_id: boardId }, ["wait_for"])
    await rejected("POST", "/api/v1/agents?wait_for=online&timeout_ms=0", { name: "Eve", board_id: boardId }, ["timeout_ms"])
    await rejected("PATCH", `/api/v1/agents/${ada.id}`, { status: "online" }, ["status"])
    await rejected("PATCH", `/api/v1/agents/${ada.id}`, { name: "Ada II", status: "offline" }, ["status"])
    await rejected("PATCH", `/api/v1/agents/${ada.id}?wait_for=nonsense`, { name: "Ada II" }, ["wait_for"])
    await rejected("PATCH", `/api/v1/agents/${ada.id}`, { heartbeat_config: { every: "5 minutes" } }, ["heartbeat_config.every"])
    await rejected("DELETE", `/api/v1/agents/${ada.id}?wait_for=nonsense`, undefined, ["wait_for"])
    await rejected("POST", `/api/v1/agents/${ada.id}/retry?wait_for=nonsense`, undefined, ["wait_for"])
    await rejected("GET", "/api/v1/agents/not-a-uuid", undefined, ["id"])
    await rejected("GET", "/api/v1/agents?limit=0", undefined, ["limit"])
    await rejected("GET", "/api/v1/agents?board_id=abc", undefined, ["board_id"])
    await rejected("POST", "/api/v1/gateways", { name: "Bad", url: "http://127.0.0.1:1", token: "t", workspace_root: "/srv" }, ["url"])
    await rejected("POST", "/api/v1/gateways", { name: "Bad", url: "ws://127.0.0.1:1", token: "t", workspace_root: "relative/path" }, ["workspace_root"])
    await rejected("POST", "/api/v1/gateways", { name: "Bad", url: "ws://user:secret@127.0.0.1:1", token: "t", workspace_root: "/srv" }, ["url"])
    await rejected("POST", "/api/v1/boards", { name: "Nowhere", gateway_id: randomUUID() }, ["gateway_id"])
    await rejected("POST", "/api/v1/agents/heartbeat", { name: "Eve" }, ["board_id"])

    const after = await listAll()
    expect(after.total).toBe(before.agents.total)
    expect(after.items).toEqual(before.agents.items)
    expect(simulator.calls.length).toBe(before.calls)
    expect((await admin("GET", `/api/v1/agents/${ada.id}`)).body).toEqual(before.ada)
    expect((await admin("GET", "/api/v1/gateways")).body.total).toBe(gatewaysBefore)
    expect((await admin("GET", "/api/v1/boards")).body.total).toBe(boardsBefore)
  })

  it("404 for an unknown agent, board or gateway, as JSON", async () => {
    const missing = randomUUID()
    for (const [method, route, body, detail] of [
      ["GET", `/api/v1/agents/${missing}`, undefined, "agent not found"],
      ["PATCH", `/api/v1/agents/${missing}`, { name: "Ghost" }, "agent not found"],
      ["DELETE", `/api/v1/agents/${missing}`, undefined, "agent not found"],
      ["POST", `/api/v1/agents/${missing}/retry`, undefined, "agent not found"],
      ["POST", `/api/v1/agents/${missing}/heartbeat`, undefined, "agent not found"],
      ["GET", `/api/v1/boards/${missing}`, undefined, "board not found"],
      ["GET", `/api/v1/gateways/${missing}`, undefined, "gateway not found"],
      ["PATCH", `/api/v1/gateways/${missing}`, { name: "Ghost" }, "gateway not found"],
      ["DELETE", `/api/v1/gateways/${missing}`, undefined, "gateway not found"]
    ] as const) {
      const answer = await call(method, route, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body })
      expect(answer.status, `${method} ${route}`).toBe(404)
      expect(answer.contentType, `${method} ${route}`).toContain("application/json")
      expect(answer.body, `${method} ${route}`).toEqual({ detail })
    }
    expect((await listAll()).total).toBe(2)
  })

  it("404 for an unknown route, as JSON like every other error", async () => {
    for (const [method, route, body] of [
      ["GET", "/api/v1/nothing-here", undefined],
      ["POST", "/api/v2/agents", { name: "Eve" }],
      ["GET", "/", undefined]
    ] as const) {
      const response = await fetch(`${service.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await response.text()
      seen.push(text)
      expect(response.status, `${method} ${route}`).toBe(404)
      expect({ route, contentType: response.headers.get("content-type"), text }).toEqual({
        route,
        contentType: expect.stringContaining("application/json"),
        text: JSON.stringify({ detail: "not found" })
      })
    }
  })

  it("409 for a duplicate agent name on a board (any case) and a duplicate board or gateway name", async () => {
    const callsBefore = simulator.calls.length
    const duplicate = await admin("POST", "/api/v1/agents", { name: "aDA", board_id: boardId })
    expect(duplicate.status).toBe(409)
    expect(duplicate.body.detail).toContain("already exists")
    const rename = await admin("PATCH", `/api/v1/agents/${bob.id}`, { name: "ADA" })
    expect(rename.status).toBe(409)
    expect((await admin("GET", `/api/v1/agents/${bob.id}`)).body.name).toBe("Bob")
    const byName = await admin("POST", "/api/v1/agents/heartbeat", { name: "bOB", board_id: boardId })
    expect(byName.status).toBe(200)
    expect(byName.body.id).toBe(bob.id)
    expect((await listAll()).total).toBe(2)
    expect(simulator.calls.length).toBe(callsBefore)

    const board = await admin("POST", "/api/v1/boards", { name: "main", gateway_id: gatewayId })
    expect(board.status).toBe(409)
    expect(board.body.detail).toContain("already exists")
    expect((await admin("POST", "/api/v1/boards", { name: "Main", gateway_id: otherGatewayId })).status).toBe(201)
    expect((await admin("POST", "/api/v1/gateways", { name: "SIM", url: simulator.url, token: "x", workspace_root: "/srv" })).status).toBe(409)
    expect((await admin("GET", `/api/v1/agents/${ada.id}`)).status).toBe(200)
  })

  it("GET /api/v1/agents pages as {items,total,limit,offset} and filters by board_id and gateway_id", async () => {
    const identity_profile = { communication_style: "terse", favourite_tools: ["rg", "jq"], role_description: null }
    const cy = await admin("POST", "/api/v1/agents", { name: "Cy", board_id: boardId, identity_profile })
    expect(cy.body.identity_profile).toEqual(identity_profile)
    const dee = await admin("POST", "/api/v1/agents", { name: "Dee", board_id: otherBoardId })
    expect([cy.status, dee.status]).toEqual([201, 201])
    expect(dee.body.gateway_id).toBe(otherGatewayId)

    // Four board agents and the two gateways' main agents.
    const all = await admin("GET", "/api/v1/agents")
    expect(all.body).toMatchObject({ total: 6, limit: 200, offset: 0 })
    expect(Object.keys(all.body).sort()).toEqual(["items", "limit", "offset", "total"])
    const ids = all.body.items.map((agent: { id: string }) => agent.id)
    expect(new Set(ids).size).toBe(6)

    const first = await admin("GET", "/api/v1/agents?limit=4&offset=0")
    const second = await admin("GET", "/api/v1/agents?limit=4&offset=4")
    const beyond = await admin("GET", "/api/v1/agents?limit=4&offset=9")
    expect(first.body).toMatchObject({ total: 6, limit: 4, offset: 0 })
    expect(second.body).toMatchObject({ total: 6, limit: 4, offset: 4 })
    expect(second.body.items).toHaveLength(2)
    expect(beyond.body).toEqual({ items: [], total: 6, limit: 4, offset: 9 })
    expect([...first.body.items, ...second.body.items].map((agent: { id: string }) => agent.id)).toEqual(ids)

    const onBoard = await admin("GET", `/api/v1/agents?board_id=${boardId}`)
    expect(onBoard.body.total).toBe(3)
    expect(onBoard.body.items.map((agent: { name: string }) => agent.name).sort()).toEqual(["Ada", "Bob", "Cy"])
    const onOther = await admin("GET", `/api/v1/agents?gateway_id=${otherGatewayId}`)
    expect(onOther.body.total).toBe(2)
    expect(onOther.body.items.map((agent: { name: string; role: string }) => [agent.name, agent.role]).sort()).toEqual([["Dee", "worker"], ["Sim two Gateway Agent", "main"]])
    expect((await admin("GET", `/api/v1/agents?gateway_id=${gatewayId}&board_id=${otherBoardId}`)).body.total).toBe(0)
    expect((await admin("GET", `/api/v1/agents?board_id=${randomUUID()}`)).body).toMatchObject({ items: [], total: 0 })
    expect((await admin("GET", `/api/v1/agents/${cy.body.id}`)).body.identity_profile).toEqual(identity_profile)
    await quiet()
  })

  it("two concurrent creates with one name: one 201, one 409, one agent", async () => {
    const total = (await listAll()).total
    const answers = await Promise.all([admin("POST", "/api/v1/agents", { name: "Twin", board_id: boardId }), admin("POST", "/api/v1/agents", { name: "twin", board_id: boardId })])
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409])
    expect(answers.find((answer) => answer.status === 409)?.body.detail).toContain("already exists")
    expect((await listAll()).total).toBe(total + 1)
    await quiet()
  })

  it("?wait_for=online&timeout_ms=300 on a create answers 202 with the current state when online is not reached", async () => {
    const started = Date.now()
    const created = await admin("POST", "/api/v1/agents?wait_for=online&timeout_ms=300", { name: "Eve", board_id: otherBoardId })
    const elapsed = Date.now() - started
    expect(created.status).toBe(202)
    expect(created.body).toMatchObject({ name: "Eve", status: "provisioning" })
    expect(created.body.state).toMatch(/^provisioning\./)
    expect(elapsed).toBeGreaterThanOrEqual(300)
    expect(elapsed).toBeLessThan(10_000)
    expect((await admin("GET", `/api/v1/agents/${created.body.id}`)).status).toBe(200)
    await quiet()
  })

  it("heartbeats: an agent beats itself (online), never another agent (403); the admin may beat or create by name", async () => {
    expect((await admin("GET", `/api/v1/agents/${ada.id}`)).body.state).toBe("provisioning.awaiting")
    const own = await asAgent(ada.token, "POST", "/api/v1/agent/heartbeat", { status: "working" })
    expect(own.status).toBe(200)
    expect(own.body).toMatchObject({ id: ada.id, status: "online", state: "online", lifecycle: { reported_status: "working" } })
    expect(own.body.last_seen_at).not.toBeNull()

    const bobBefore = (await admin("GET", `/api/v1/agents/${bob.id}`)).body
    const foreign = await asAgent(ada.token, "POST", `/api/v1/agents/${bob.id}/heartbeat`)
    expect(foreign.status).toBe(403)
    expect(foreign.body.detail).toContain("only heartbeat itself")
    expect((await admin("GET", `/api/v1/agents/${bob.id}`)).body).toEqual(bobBefore)
    expect((await asAgent(ada.token, "POST", `/api/v1/agents/${ada.id}/heartbeat`)).body).toMatchObject({ id: ada.id, status: "online" })
    // An agent on the by-name route heartbeats itself, whatever name it sends.
    expect((await asAgent(bob.token, "POST", "/api/v1/agents/heartbeat", { name: "Ada", board_id: boardId })).body).toMatchObject({ id: bob.id, status: "online" })

    const total = (await listAll()).total
    const created = await admin("POST", "/api/v1/agents/heartbeat", { name: "Zed", board_id: boardId })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: "Zed", board_id: boardId, status: "provisioning" })
    const again = await admin("POST", "/api/v1/agents/heartbeat", { name: "zed", board_id: boardId, status: "idle" })
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(created.body.id)
    expect(again.body.last_seen_at).not.toBeNull()
    expect(again.body.lifecycle.reported_status).toBe("idle")
    expect((await listAll()).total).toBe(total + 1)
    await quiet()
  })

  /** The tokens of the agents the delete case removed, for the leak check (empty when that case did not run). */
  const tokensOfDeleted: Array<string> = []

  it("DELETE ?wait_for=deleted answers 200 with the agent as deleted; then their gateway can be deleted, and their tokens no longer authenticate", async () => {
    const deletions: Array<{ id: string; status: number; body: any }> = []
    await provisioned("Del", otherBoardId)
    await provisioned("Ete", otherBoardId)
    // At least the two board agents and the gateway's main agent (others if other cases ran first).
    const onOther = (await admin("GET", `/api/v1/agents?gateway_id=${otherGatewayId}`)).body.items as Array<{ id: string }>
    expect(onOther.length).toBeGreaterThanOrEqual(3)
    // A database slow to take writes (as under load) must not change the answer: while the
    // `deleting` write is held, the simulator finishes the removal, so the wait is answered
    // after the actor is done but before its final snapshot is in.
    const sql = new pg.Client({ connectionString: db.url })
    await sql.connect()
    try {
      await sql.query("create function test_slow_final_write() returns trigger language plpgsql as $$ begin perform pg_sleep(0.4); return new; end $$")
      await sql.query("create trigger test_slow_final_write before update on agents for each row when (new.status in ('deleting', 'deleted')) execute function test_slow_final_write()")
      tokensOfDeleted.push(...onOther.map((agent) => tokenOf(agent.id)).filter((token) => token !== undefined))
    for (const agent of onOther) deletions.push({ id: agent.id, ...(await admin("DELETE", `/api/v1/agents/${agent.id}?wait_for=deleted&timeout_ms=30000`)) })
    } finally {
      await sql.query("drop trigger if exists test_slow_final_write on agents")
      await sql.query("drop function if exists test_slow_final_write()")
      await sql.end()
    }
    for (const agent of onOther) {
      await expect.poll(async () => (await admin("GET", `/api/v1/agents/${agent.id}`)).status, { timeout: 30_000, interval: 50 }).toBe(404)
    }
    expect(simulator.state.agents.has(`mc-${onOther[0]!.id}`)).toBe(false)
    // The answer to a wait that was reached must show the state waited for.
    expect(deletions.map(({ status, body }) => ({ status, state: body.state, agentStatus: body.status }))).toEqual(
      onOther.map(() => ({ status: 200, state: "deleted", agentStatus: "deleted" }))
    )

    // A gateway whose agents are all deleted can be deleted.
    expect(deletions).toHaveLength(onOther.length)
    await expect.poll(async () => (await admin("GET", `/api/v1/agents?gateway_id=${otherGatewayId}`)).body.total, { timeout: 30_000, interval: 50 }).toBe(0)
    expect((await admin("DELETE", `/api/v1/gateways/${otherGatewayId}`)).status).toBe(200)
    expect((await admin("GET", `/api/v1/gateways/${otherGatewayId}`)).status).toBe(404)

    // A deleted agent's token no longer authenticates.
    expect(tokensOfDeleted.length).toBeGreaterThan(0)
    for (const token of tokensOfDeleted) expect((await asAgent(token, "POST", "/api/v1/agent/heartbeat")).status).toBe(401)
  })

  it("neither the gateway token nor any agent token appears in any response", async () => {
    const one = await admin("GET", `/api/v1/gateways/${gatewayId}`)
    expect(one.body).toMatchObject({ id: gatewayId, name: "Sim", url: simulator.url, workspace_root: "/srv/gw/workspaces" })
    expect(one.body).not.toHaveProperty("token")
    const listed = await admin("GET", "/api/v1/gateways")
    for (const gateway of listed.body.items) expect(gateway).not.toHaveProperty("token")
    const renamed = await admin("PATCH", `/api/v1/gateways/${gatewayId}`, { name: "Sim renamed" })
    expect(renamed.status).toBe(200)
    expect(renamed.body).not.toHaveProperty("token")
    // Every agent as each read shows it, so the check covers them however few cases ran before.
    for (const agent of (await admin("GET", "/api/v1/agents")).body.items as Array<{ id: string }>) {
      for (const read of ["", "/activity", "/transitions", "/messages"]) await admin("GET", `/api/v1/agents/${agent.id}${read}`)
    }
    expect(seen.length).toBeGreaterThan(30)
    const secrets = [simulator.token, ada.token, bob.token, ...tokensOfDeleted]
    const leaks = seen.filter((text) => secrets.some((secret) => text.includes(secret)))
    expect(leaks).toEqual([])
  })

  it("a heartbeat answers the read model its save left, as a read of the agent shows it", async () => {
    const hal = await provisioned("Hal", boardId)
    await asAgent(hal.token, "POST", "/api/v1/agent/heartbeat")
    const beat = await asAgent(hal.token, "POST", "/api/v1/agent/heartbeat", { status: "reading" })
    expect(beat.status).toBe(200)
    const { workspace: _, ...read } = (await admin("GET", `/api/v1/agents/${hal.id}`)).body
    expect(beat.body).toEqual(read)
    expect(beat.body.lifecycle.reported_status).toBe("reading")
  })
})
