import { createHash } from "node:crypto"
import { Sse } from "@effect/experimental"
import { Effect } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentChangeEvent } from "../../src/streams/http/TransitionView.ts"
import { AgentChangeFeed } from "../../src/streams/AgentChangeFeed.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * Push stream of agent changes and transition history (docs/architecture.md §8, §6.2), with two service
 * instances on one database: A owns the agents' actors (they are created after B started, so B
 * restores none), B only streams. Every change B's clients see came through Postgres.
 */

interface Received {
  readonly id: string
  readonly event: string
  readonly data: AgentChangeEvent
  readonly raw: string
}

interface Client {
  readonly status: number
  readonly contentType: string | null
  readonly events: Array<Received>
  /** Everything received, comments included. */
  readonly text: () => string
  readonly close: () => Promise<void>
}

/** Opens `GET /agents/stream` and parses it with @effect/experimental's SSE parser. */
const openStream = async (service: InProcessService, query = "", headers: Record<string, string> = {}): Promise<Client> => {
  const controller = new AbortController()
  const response = await fetch(`${service.url}/api/v1/agents/stream${query}`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers },
    signal: controller.signal
  })
  const events: Array<Received> = []
  let text = ""
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event") events.push({ id: event.id ?? "", event: event.event, data: JSON.parse(event.data), raw: event.data })
  })
  const pump = (async () => {
    if (response.body === null) return
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        const chunk = decoder.decode(value, { stream: true })
        text += chunk
        parser.feed(chunk)
      }
    } catch {
      // Aborted by close().
    }
  })()
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    events,
    text: () => text,
    close: async () => {
      controller.abort()
      await pump
    }
  }
}

/** A heartbeat that left the agent's state as it was: a change on the stream, not a transition (issue 13). */
const isBeat = (event: Received) => event.data.transition.from === event.data.transition.to && event.data.transition.event === "agent.heartbeat"

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

describe("agent change stream across two instances (in-process services, simulated gateways)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let otherSimulator: GatewaySimulator
  /** Owns the actors. */
  let a: InProcessService
  /** Streams only. */
  let b: InProcessService
  let gatewayId: string
  let boardId: string
  let otherBoardId: string
  let otherGatewayId: string
  let otherGatewayBoardId: string
  /** Every stream opened, closed after the file. */
  const clients: Array<Client> = []

  const open = async (service: InProcessService, query = "", headers: Record<string, string> = {}) => {
    const client = await openStream(service, query, headers)
    clients.push(client)
    return client
  }
  const tokenOf = (gatewayAgentId: string, sim = simulator) => readAuthToken(sim.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")
  const heartbeat = async (token: string) => {
    const response = await fetch(`${a.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": token }, body: "{}" })
    return { status: response.status, body: (await response.json()) as { id: string; state: string; last_seen_at: string; version: number } }
  }
  const create = async (name: string, board = boardId) => {
    const created = await a.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name, board_id: board })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    return created.body as { id: string; gateway_agent_id: string; version: number }
  }
  const of = (client: Client, agentId: string) => client.events.filter((event) => event.data.agent.id === agentId)
  const transitionsOf = async (agentId: string) => (await a.api("GET", `/api/v1/agents/${agentId}/transitions?limit=200`)).body.items as Array<{ cursor: number; version: number; from: string | null; to: string; event: string; error_tag: string | null }>
  /** Until the gateway's main agent has provisioned (expect.poll is only for tests). */
  const provisioned = async (mainAgentId: string) => {
    const deadline = Date.now() + 20_000
    while ((await a.api("GET", `/api/v1/agents/${mainAgentId}`)).body.state !== "provisioning.awaiting") {
      if (Date.now() > deadline) throw new Error(`main agent ${mainAgentId} did not provision`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    otherSimulator = await startGatewaySimulator()
    // Two runners of one cluster share their configuration; either may own the gateways.
    const shared = { checkinTimeoutMs: 300_000, offlineAfterMs: 2_500, transitionsKeepPerAgent: 8 }
    b = await startInProcessService(db.url, shared)
    a = await startInProcessService(db.url, shared)
    const gateway = await a.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status).toBe(201)
    gatewayId = gateway.body.id
    const other = await a.api("POST", "/api/v1/gateways", { name: "Other", url: otherSimulator.url, token: otherSimulator.token, workspace_root: "/srv/gw/other" })
    expect(other.status).toBe(201)
    otherGatewayId = other.body.id
    await provisioned(gateway.body.main_agent_id)
    await provisioned(other.body.main_agent_id)
    boardId = (await a.api("POST", "/api/v1/boards", { name: "Streamed", gateway_id: gatewayId })).body.id
    otherBoardId = (await a.api("POST", "/api/v1/boards", { name: "Beside", gateway_id: gatewayId })).body.id
    otherGatewayBoardId = (await a.api("POST", "/api/v1/boards", { name: "Far", gateway_id: otherGatewayId })).body.id
  })

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()))
    await a?.stop()
    await b?.stop()
    await simulator?.stop()
    await otherSimulator?.stop()
    await db?.drop()
  })

  it("a change made through A reaches a stream opened on B: creation, provisioning, heartbeats with their last_seen_at", async () => {
    const stream = await open(b)
    expect(stream.status).toBe(200)
    expect(stream.contentType).toContain("text/event-stream")
    const agent = await create("Ada")
    // One instance (the owner of its gateway) runs its actor, the other none: what is streamed came through Postgres.
    const actors = [(await a.agents()).snapshot(agent.id), (await b.agents()).snapshot(agent.id)]
    expect(actors.filter((actor) => actor !== undefined)).toHaveLength(1)
    await expect.poll(() => of(stream, agent.id).map((event) => event.data.transition.to), { timeout: 10_000 }).toContain("provisioning.awaiting")
    const first = of(stream, agent.id)[0]!
    expect(first.event).toBe("agent")
    expect(first.data.transition).toMatchObject({ from: null, to: "provisioning.applying", event: "xstate.init", error_tag: null })

    const token = tokenOf(agent.gateway_agent_id)
    expect(token).toMatch(/^sy_/)
    const beat = await heartbeat(token!)
    expect(beat.status).toBe(200)
    await expect.poll(() => of(stream, agent.id).find((event) => event.data.version === beat.body.version)?.data.agent.last_seen_at, { timeout: 5_000 }).toBe(beat.body.last_seen_at)
    const online = of(stream, agent.id).find((event) => event.data.version === beat.body.version)!
    expect(online.data.transition).toMatchObject({ from: "provisioning.awaiting", to: "online", event: "agent.heartbeat" })

    // An online heartbeat re-enters online: a change of its own, with the new last_seen_at.
    await new Promise((resolve) => setTimeout(resolve, 5))
    const again = await heartbeat(token!)
    await expect.poll(() => of(stream, agent.id).find((event) => event.data.version === again.body.version)?.data.transition, { timeout: 5_000 }).toMatchObject({
      from: "online",
      to: "online",
      event: "agent.heartbeat"
    })
    expect(of(stream, agent.id).find((event) => event.data.version === again.body.version)!.data.agent.last_seen_at).toBe(again.body.last_seen_at)
    expect(Date.parse(again.body.last_seen_at)).toBeGreaterThan(Date.parse(beat.body.last_seen_at))

    // The SSE id is the global cursor; versions rise per agent; no token hash ever.
    for (const event of stream.events) expect(event.id).toBe(String(event.data.cursor))
    const ids = stream.events.map((event) => event.data.cursor)
    expect(ids).toEqual([...ids].sort((x, y) => x - y))
    expect(new Set(ids).size).toBe(ids.length)
    const versions = of(stream, agent.id).map((event) => event.data.version)
    expect(versions).toEqual([...versions].sort((x, y) => x - y))
    expect(stream.text()).not.toContain(sha256(token!))
    expect(stream.text()).not.toContain("token_hash")
    expect(stream.text()).not.toContain(token!)
  })

  it("an agent going silent shows up as online → offline (deadline.reached) with its reason", async () => {
    const stream = await open(b, `?board_id=${boardId}`)
    const agent = await create("Silent")
    await heartbeat(tokenOf(agent.gateway_agent_id)!)
    await expect.poll(() => of(stream, agent.id).find((event) => event.data.transition.to === "offline")?.data, { timeout: 10_000 }).toMatchObject({
      agent: { status: "offline", offline_reason: "no heartbeat for 3 s" },
      transition: { from: "online", to: "offline", event: "deadline.reached", error_tag: null }
    })
  })

  it("a failed step's transition carries the error's tag, in the stream and in the history", async () => {
    const stream = await open(b, `?board_id=${boardId}`)
    simulator.inject({ method: "agents.create", error: { code: "INVALID_REQUEST", message: "agents.create refused (test)", retryable: false }, times: 1 })
    const created = await a.api("POST", "/api/v1/agents", { name: "Doomed", board_id: boardId })
    expect(created.status).toBe(201)
    await expect.poll(() => of(stream, created.body.id).find((event) => event.data.transition.to === "provisioning.failed")?.data.transition, { timeout: 10_000 }).toMatchObject({
      from: "provisioning.applying",
      event: "apply.failed",
      error_tag: "GatewayRpcError"
    })
    expect(of(stream, created.body.id).at(-1)!.data.agent.last_error).toMatchObject({ tag: "GatewayRpcError", step: "apply" })
    expect((await transitionsOf(created.body.id))[0]).toMatchObject({ to: "provisioning.failed", event: "apply.failed", error_tag: "GatewayRpcError" })
  })

  it("filters: board_id and gateway_id select on where the agent was when it changed", async () => {
    const onBoard = await open(b, `?board_id=${boardId}`)
    const onOtherGateway = await open(b, `?gateway_id=${otherGatewayId}`)
    const here = await create("Here")
    const beside = await create("Beside", otherBoardId)
    const far = await create("Far", otherGatewayBoardId)
    const everyone = await open(b)
    await heartbeat(tokenOf(here.gateway_agent_id)!)
    await heartbeat(tokenOf(beside.gateway_agent_id)!)
    await heartbeat(tokenOf(far.gateway_agent_id, otherSimulator)!)
    await expect.poll(() => new Set(everyone.events.filter((event) => event.data.transition.to === "online").map((event) => event.data.agent.id)).size, { timeout: 10_000 }).toBe(3)
    await expect.poll(() => of(onOtherGateway, far.id).some((event) => event.data.transition.to === "online"), { timeout: 5_000 }).toBe(true)
    await expect.poll(() => of(onBoard, here.id).some((event) => event.data.transition.to === "online"), { timeout: 5_000 }).toBe(true)
    expect(onBoard.events.every((event) => event.data.agent.board_id === boardId)).toBe(true)
    expect(of(onBoard, beside.id)).toEqual([])
    expect(onOtherGateway.events.every((event) => event.data.agent.gateway_id === otherGatewayId)).toBe(true)
    expect(of(onOtherGateway, here.id)).toEqual([])
    expect(of(onOtherGateway, beside.id)).toEqual([])
  })

  it("Last-Event-ID: a client that reconnects misses nothing and gets nothing twice, while changes keep coming", async () => {
    const first = await open(b, `?board_id=${boardId}`)
    const agents = await Promise.all(["Rex", "Sue"].map((name) => create(name)))
    await expect.poll(() => agents.every((agent) => of(first, agent.id).length > 0), { timeout: 10_000 }).toBe(true)
    // Changes go on while the client is away and while it reconnects.
    let beating = true
    const tokens = agents.map((agent) => tokenOf(agent.gateway_agent_id)!)
    const beats = (async () => {
      while (beating) {
        await Promise.all(tokens.map(heartbeat))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 150))
    await first.close()
    const last = first.events.at(-1)!.id
    await new Promise((resolve) => setTimeout(resolve, 200))
    const resumed = await open(b, `?board_id=${boardId}`, { "last-event-id": last })
    await new Promise((resolve) => setTimeout(resolve, 300))
    beating = false
    await beats
    // Heartbeats are not transitions (issue 13): the newest change of each agent is its last
    // heartbeat, a change of its own on the stream at the agent's current version.
    const current = await Promise.all(agents.map(async (agent) => (await a.api("GET", `/api/v1/agents/${agent.id}`)).body.version as number))
    await expect.poll(() => agents.map((agent) => of(resumed, agent.id).at(-1)?.data.version), { timeout: 10_000 }).toEqual(current)
    const seen = [...first.events, ...resumed.events].filter((event) => agents.some((agent) => agent.id === event.data.agent.id)).map((event) => event.data.cursor)
    expect(seen.length).toBeGreaterThan(4)
    expect(new Set(seen).size).toBe(seen.length)
    const stored = (await Promise.all(agents.map((agent) => transitionsOf(agent.id)))).flat().map((row) => row.cursor).sort((x, y) => x - y)
    // Retention (8 per agent) may have pruned the oldest rows; every stored transition was seen
    // (the heartbeats that left an agent online are changes of their own, not transitions).
    const seenTransitions = [...first.events, ...resumed.events]
      .filter((event) => agents.some((agent) => agent.id === event.data.agent.id) && !isBeat(event))
      .map((event) => event.data.cursor)
    expect(seenTransitions.filter((cursor) => cursor >= stored[0]!).sort((x, y) => x - y)).toEqual(stored)
    expect(resumed.events[0]!.data.cursor).toBeGreaterThan(Number(last))
  })

  it("under concurrent writes a live stream gets every committed transition once, in cursor order, and each agent's newest heartbeat", async () => {
    const stream = await open(b, `?board_id=${boardId}`)
    const agents = ((await a.api("GET", `/api/v1/agents?board_id=${boardId}`)).body.items as Array<{ id: string; gateway_agent_id: string; state: string }>).filter(
      (agent) => agent.state === "online" || agent.state === "offline"
    )
    expect(agents.length).toBeGreaterThan(4)
    const tokens = agents.map((agent) => tokenOf(agent.gateway_agent_id)!)
    const before = Math.max(...(await Promise.all(agents.map((agent) => transitionsOf(agent.id)))).flat().map((row) => row.cursor))
    for (let round = 0; round < 3; round++) await Promise.all(tokens.flatMap((token) => [heartbeat(token), heartbeat(token)]))
    // Each agent's newest change (its last heartbeat) reaches the stream, at its current version.
    const current = await Promise.all(agents.map(async (agent) => (await a.api("GET", `/api/v1/agents/${agent.id}`)).body.version as number))
    await expect.poll(() => agents.map((agent) => of(stream, agent.id).at(-1)?.data.version), { timeout: 10_000 }).toEqual(current)
    // Per agent: the transitions stored since (an offline agent came back online) are exactly
    // the transitions the stream gave; heartbeats of an online agent are changes, not transitions.
    const stored = await Promise.all(agents.map(async (agent) => (await transitionsOf(agent.id)).map((row) => row.cursor).filter((cursor) => cursor > before).sort((x, y) => x - y)))
    agents.forEach((agent, i) => {
      const streamed = of(stream, agent.id).filter((event) => !isBeat(event))
      expect(streamed.map((event) => event.data.cursor).filter((cursor) => cursor > before), agent.id).toEqual(stored[i])
    })
    const all = stream.events.map((event) => event.data.cursor)
    expect(all).toEqual([...new Set(all)].sort((x, y) => x - y))
  })

  it("the listener reconnects after its connection is killed and catches up what committed meanwhile", async () => {
    const stream = await open(b, `?board_id=${boardId}`)
    const agent = await create("Phoenix")
    const token = tokenOf(agent.gateway_agent_id)!
    const admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
    try {
      const killed = await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'switchyard-listener' and datname = current_database()")
      // One listener per instance, A's and B's.
      expect(killed.rowCount).toBe(2)
    } finally {
      await admin.end()
    }
    // Committed while B's listener is down (it waits ≥ 75 ms to reconnect): the notification is
    // lost, the catch-up read after reconnecting is not. Well before A's 2.5 s offline deadline,
    // whose change would otherwise bring it along.
    const beat = await heartbeat(token)
    await expect.poll(() => of(stream, agent.id).some((event) => event.data.version === beat.body.version), { timeout: 1_500, interval: 20 }).toBe(true)
    const later = await heartbeat(token)
    await expect.poll(() => of(stream, agent.id).some((event) => event.data.version === later.body.version), { timeout: 10_000 }).toBe(true)
  })

  it("GET /agents/{id}/transitions: newest first, paginated, readable after delete; heartbeats of an online agent are not transitions", async () => {
    const agent = await create("Historian")
    const token = tokenOf(agent.gateway_agent_id)!
    const stateChanges = (await transitionsOf(agent.id)).length
    for (let i = 0; i < 10; i++) expect((await heartbeat(token)).status).toBe(200)
    // The first heartbeat brought it online (a transition); the nine after it left it online.
    const all = await transitionsOf(agent.id)
    expect(all.length).toBe(stateChanges + 1)
    expect(all.some((row) => row.from === "online" && row.to === "online")).toBe(false)
    const page1 = await a.api("GET", `/api/v1/agents/${agent.id}/transitions?limit=2&offset=0`)
    const page2 = await a.api("GET", `/api/v1/agents/${agent.id}/transitions?limit=2&offset=2`)
    expect(page1.body).toMatchObject({ total: all.length, limit: 2, offset: 0 })
    expect(page2.body).toMatchObject({ total: all.length, limit: 2, offset: 2 })
    const cursors = [...page1.body.items, ...page2.body.items].map((row: { cursor: number }) => row.cursor)
    expect(cursors).toEqual([...cursors].sort((x, y) => y - x))
    expect(page1.body.items[0]).toMatchObject({ agent_id: agent.id, board_id: boardId, gateway_id: gatewayId, from: "provisioning.awaiting", to: "online", event: "agent.heartbeat", error_tag: null })
    const agentNow = (await a.api("GET", `/api/v1/agents/${agent.id}`)).body
    expect(agentNow.version).toBeGreaterThan(page1.body.items[0].version)

    expect((await a.api("DELETE", `/api/v1/agents/${agent.id}?wait_for=deleted&timeout_ms=20000`)).status).toBe(200)
    expect((await a.api("GET", `/api/v1/agents/${agent.id}`)).status).toBe(404)
    const after = await b.api("GET", `/api/v1/agents/${agent.id}/transitions?limit=2`)
    expect(after.status).toBe(200)
    expect(after.body.items[0]).toMatchObject({ from: "deleting.removing", to: "deleted", event: "remove.done" })
    expect((await b.api("GET", `/api/v1/agents/00000000-0000-4000-8000-000000000000/transitions`)).status).toBe(404)
  })

  it("admin only; bad Last-Event-ID or an unknown parameter is a 422; a closed client leaves no subscriber", async () => {
    const anonymous = await fetch(`${b.url}/api/v1/agents/stream`)
    expect(anonymous.status).toBe(401)
    expect((await openStream(b, "", { "last-event-id": "abc" })).status).toBe(422)
    expect((await openStream(b, "?since=2026-01-01T00:00:00Z")).status).toBe(422)
    expect((await openStream(b, "?board_id=nope")).status).toBe(422)
    await Promise.all(clients.splice(0).map((client) => client.close()))
    const subscribers = () => b.runtime.runPromise(Effect.flatMap(AgentChangeFeed, (feed) => feed.subscribers))
    await expect.poll(subscribers, { timeout: 5_000 }).toBe(0)
    const client = await openStream(b)
    await expect.poll(subscribers, { timeout: 5_000 }).toBe(1)
    await client.close()
    await expect.poll(subscribers, { timeout: 5_000 }).toBe(0)
  })
})

describe("restarts", () => {
  it("a restored actor records no transition (nothing happened), and the history survives the restart", async () => {
    const db = await createTestDatabase()
    const simulator = await startGatewaySimulator()
    let service: InProcessService | undefined
    try {
      service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000 })
      const gateway = await service.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
      const main = gateway.body.main_agent_id as string
      await expect.poll(async () => (await service!.api("GET", `/api/v1/agents/${main}`)).body.state, { timeout: 20_000 }).toBe("provisioning.awaiting")
      const before = (await service.api("GET", `/api/v1/agents/${main}/transitions`)).body
      expect(before.items.map((row: { to: string }) => row.to).reverse()).toEqual(["provisioning.applying", "provisioning.waking", "provisioning.awaiting"])
      await service.stop()
      service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000 })
      await expect.poll(async () => (await fetch(`${service!.url}/readyz`)).status, { timeout: 10_000 }).toBe(200)
      expect((await service.api("GET", `/api/v1/agents/${main}/transitions`)).body).toEqual(before)
    } finally {
      await service?.stop()
      await simulator.stop()
      await db.drop()
    }
  })
})

describe("stopping a service with open streams", () => {
  it("ends them with a closing comment, so the HTTP server can close", async () => {
    const db = await createTestDatabase()
    try {
      const service = await startInProcessService(db.url)
      const stream = await openStream(service)
      expect(stream.status).toBe(200)
      const started = Date.now()
      await service.stop()
      expect(Date.now() - started).toBeLessThan(5_000)
      await expect.poll(() => stream.text(), { timeout: 2_000 }).toContain(": closing: the service is shutting down; reconnect with Last-Event-ID")
      await stream.close()
    } finally {
      await db.drop()
    }
  })
})
