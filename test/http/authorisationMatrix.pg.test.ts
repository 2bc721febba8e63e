import { Chunk } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { router } from "../../src/http/HttpApp.ts"
import { buildOpenApiDocument } from "../../src/http/openapi/openApiDocument.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { callWith, createFleet, issueInboxKey, type Fleet } from "./agentFleet.ts"

/**
 * The authorisation matrix (docs/operations.md §6.2): every route the router serves × every kind of caller
 * (the admin; the main agent, the lead and a worker of one board, all on gateway "home"; a
 * worker of another board of that gateway; the main agent of another gateway; the worker's
 * inbox key; no credentials), each cell allow or deny, each cell asked over HTTP. The rows are
 * keyed by the router's own `METHOD /path/:param`, so a route without a row (or a row without a
 * route) fails the test.
 *
 * - allow: the call got past authentication and authorisation, i.e. any answer but 401/403
 *   (never a 5xx). Probes are chosen so that an allowed call leaves the other cells alone: a
 *   missing id (404), a taken name (409) or a bad body (422), each decided after the checks,
 *   or at most a message to the simulated gateway or a board memory entry.
 * - deny: 401 or 403; a caller with no credentials at all is always 401.
 *
 * To add a route: add its row to MATRIX with `who` (the cells) and `probe` (the request).
 */
const ACTORS = ["admin", "main", "lead", "worker", "otherWorker", "otherMain", "inboxKey", "none"] as const
type Actor = (typeof ACTORS)[number]
type Cell = "allow" | "deny"

/** What the fixture gives a probe: the fleet, and the ids a probe should not touch. */
interface World extends Fleet {
  /** A well-formed id that names nothing. */
  readonly missing: string
  /** A ledger message the worker (Ada) sent. */
  readonly workerMessage: string
}

interface Probe {
  readonly path: string
  readonly body?: unknown
}

interface Row {
  readonly who: Readonly<Record<Actor, Cell>>
  readonly probe: (world: World) => Probe
}

/** The cells of a row: `allowed` may call, everyone else is denied. */
const only = (...allowed: ReadonlyArray<Actor>): Readonly<Record<Actor, Cell>> =>
  Object.fromEntries(ACTORS.map((actor) => [actor, allowed.includes(actor) ? "allow" : "deny"])) as Record<Actor, Cell>

const EVERYONE = only(...ACTORS)
const ADMIN = only("admin")
/** Every agent with its `X-Agent-Token`, whatever its role, board or gateway. */
const AGENT_TOKENS: ReadonlyArray<Actor> = ["main", "lead", "worker", "otherWorker", "otherMain"]
/** The inbox routes: the agent's own `X-Api-Key` only. */
const INBOX = only("inboxKey")

const path = (text: string): Row["probe"] => () => ({ path: text })

/** Every row: keep them grouped by route file, in router order. */
const MATRIX: Readonly<Record<string, Row>> = {
  // systemApi (health, machine, OpenAPI, docs, metrics) and inspectApi: public.
  "GET /healthz": { who: EVERYONE, probe: path("/healthz") },
  "GET /readyz": { who: EVERYONE, probe: path("/readyz") },
  "GET /api/v1/machines/agent": { who: EVERYONE, probe: path("/api/v1/machines/agent") },
  "GET /openapi.json": { who: EVERYONE, probe: path("/openapi.json") },
  "GET /docs": { who: EVERYONE, probe: path("/docs") },
  "GET /docs/:asset": { who: EVERYONE, probe: path("/docs/docs.css") },
  "GET /metrics": { who: EVERYONE, probe: path("/metrics") },
  "GET /inspect": { who: EVERYONE, probe: path("/inspect") },
  "GET /inspect/assets/:name": { who: EVERYONE, probe: path("/inspect/assets/main.js") },

  // gatewayQueryRoutes: admin.
  "POST /api/v1/gateways/status": { who: ADMIN, probe: () => ({ path: "/api/v1/gateways/status", body: {} }) },
  "GET /api/v1/gateways/:id/status": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/status` }) },
  "GET /api/v1/gateways/:id/liveness": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/liveness` }) },
  "GET /api/v1/gateways/:id/sessions": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/sessions` }) },
  "GET /api/v1/gateways/:id/sessions/:key": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/sessions/agent:nobody:main` }) },
  "GET /api/v1/gateways/:id/sessions/:key/history": {
    who: ADMIN,
    probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/sessions/agent:nobody:main/history` })
  },
  "POST /api/v1/gateways/:id/sessions/:key/message": {
    who: ADMIN,
    probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/sessions/agent:nobody:main/message`, body: {} })
  },
  "GET /api/v1/gateways/:id/commands": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/commands` }) },

  // gatewayRoutes: admin.
  "POST /api/v1/gateways": { who: ADMIN, probe: () => ({ path: "/api/v1/gateways", body: {} }) },
  "GET /api/v1/gateways": { who: ADMIN, probe: path("/api/v1/gateways") },
  "GET /api/v1/gateways/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}` }) },
  "PATCH /api/v1/gateways/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}`, body: { name: "" } }) },
  "POST /api/v1/gateways/:id/check": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.missing}/check` }) },
  "DELETE /api/v1/gateways/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.missing}` }) },

  // boardRoutes, taskRoutes: admin.
  "POST /api/v1/boards": { who: ADMIN, probe: () => ({ path: "/api/v1/boards", body: {} }) },
  "GET /api/v1/boards": { who: ADMIN, probe: path("/api/v1/boards") },
  "GET /api/v1/boards/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}` }) },
  "PATCH /api/v1/boards/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}`, body: { max_agents: -1 } }) },
  "DELETE /api/v1/boards/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.missing}` }) },
  "POST /api/v1/boards/:id/lead": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.missing}/lead`, body: {} }) },
  "POST /api/v1/boards/:id/tasks": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}/tasks`, body: {} }) },
  "GET /api/v1/boards/:id/tasks": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}/tasks` }) },
  "PATCH /api/v1/boards/:id/tasks/:task_id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}/tasks/${w.missing}`, body: {} }) },

  // heartbeatRoutes: agents heartbeat themselves; the admin any agent, or by name.
  "POST /api/v1/agent/heartbeat": { who: only(...AGENT_TOKENS), probe: () => ({ path: "/api/v1/agent/heartbeat", body: {} }) },
  // A valid body: the admin finds Ada by name and heartbeats her; an agent heartbeats itself.
  "POST /api/v1/agents/heartbeat": { who: only("admin", ...AGENT_TOKENS), probe: (w) => ({ path: "/api/v1/agents/heartbeat", body: { name: "Ada", board_id: w.boards.board } }) },
  "POST /api/v1/agents/:id/heartbeat": { who: only("admin", "worker"), probe: (w) => ({ path: `/api/v1/agents/${w.agents.ada.id}/heartbeat`, body: {} }) },

  // streamRoutes: admin.
  "GET /api/v1/agents/stream": { who: ADMIN, probe: path("/api/v1/agents/stream") },
  "GET /api/v1/agents/:id/transitions": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.agents.ada.id}/transitions` }) },

  // agentRoutes: admin; a lead creates workers on its own board (a taken name: 409 after the role check).
  "GET /api/v1/agents": { who: ADMIN, probe: path("/api/v1/agents") },
  "GET /api/v1/fleet/summary": { who: ADMIN, probe: path("/api/v1/fleet/summary") },
  "GET /api/v1/cluster": { who: ADMIN, probe: path("/api/v1/cluster") },
  "POST /api/v1/agents": { who: only("admin", "lead"), probe: (w) => ({ path: "/api/v1/agents", body: { name: "Ada", board_id: w.boards.board } }) },
  "POST /api/v1/gateways/:id/agents/adopt": {
    who: ADMIN,
    probe: (w) => ({ path: `/api/v1/gateways/${w.missing}/agents/adopt`, body: { gateway_agent_id: "nobody", board_id: w.boards.board, name: "Nobody" } })
  },
  "GET /api/v1/agents/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.agents.ada.id}` }) },
  "PATCH /api/v1/agents/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.agents.ada.id}`, body: { status: "online" } }) },
  "GET /api/v1/agents/:id/activity": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.agents.ada.id}/activity` }) },
  "DELETE /api/v1/agents/:id": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.missing}` }) },
  "POST /api/v1/agents/:id/retry": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.missing}/retry` }) },

  // syncRoutes: admin.
  "GET /api/v1/templates/sync/jobs": { who: ADMIN, probe: path("/api/v1/templates/sync/jobs") },
  "POST /api/v1/gateways/:id/templates/sync": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.missing}/templates/sync`, body: {} }) },
  "GET /api/v1/gateways/:id/templates/sync/:job": { who: ADMIN, probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/templates/sync/${w.missing}` }) },
  "GET /api/v1/gateways/:id/templates/sync/:job/events": {
    who: ADMIN,
    probe: (w) => ({ path: `/api/v1/gateways/${w.gateways.home}/templates/sync/${w.missing}/events` })
  },

  // inboxRoutes: the key is issued by the admin; the inbox takes only the agent's own X-Api-Key (the inbox key is the worker's).
  "POST /api/v1/agents/:id/api-key": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.missing}/api-key` }) },
  "GET /api/gateway/poll": { who: INBOX, probe: path("/api/gateway/poll") },
  "POST /api/gateway/report": { who: INBOX, probe: () => ({ path: "/api/gateway/report", body: {} }) },
  "POST /api/gateway/heartbeat": { who: INBOX, probe: () => ({ path: "/api/gateway/heartbeat", body: {} }) },
  "POST /api/gateway/send-message": { who: INBOX, probe: () => ({ path: "/api/gateway/send-message", body: {} }) },
  "GET /api/gateway/setup-guide/:agent_id": { who: only("admin", "inboxKey"), probe: (w) => ({ path: `/api/gateway/setup-guide/${w.agents.ada.id}` }) },

  // activityRoutes: the admin reads all; an agent its own entries.
  "GET /api/v1/activity": { who: only("admin", ...AGENT_TOKENS), probe: path("/api/v1/activity") },

  // agentApiRoutes (/api/v1/agent/*): agents only; a board agent its own board, the main agent its gateway's boards.
  "GET /api/v1/agent/healthz": { who: only(...AGENT_TOKENS), probe: path("/api/v1/agent/healthz") },
  "GET /api/v1/agent/boards": { who: only(...AGENT_TOKENS), probe: path("/api/v1/agent/boards") },
  "GET /api/v1/agent/boards/:board_id": { who: only("main", "lead", "worker"), probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}` }) },
  "GET /api/v1/agent/agents": { who: only(...AGENT_TOKENS), probe: path("/api/v1/agent/agents") },
  // The lead nudges its board's agents (a missing one: 404 after the role check).
  "POST /api/v1/agent/boards/:board_id/agents/:agent_id/nudge": {
    who: only("lead"),
    probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}/agents/${w.missing}/nudge?wait_ms=0`, body: { message: "matrix probe" } })
  },
  // The lead, or the agent itself (the worker's own SOUL.md).
  "GET /api/v1/agent/boards/:board_id/agents/:agent_id/soul": {
    who: only("lead", "worker"),
    probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}/agents/${w.agents.ada.id}/soul` })
  },
  "PUT /api/v1/agent/boards/:board_id/agents/:agent_id/soul": {
    who: only("lead"),
    probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}/agents/${w.missing}/soul?wait_ms=0`, body: { content: "# SOUL", reason: "matrix probe" } })
  },
  "POST /api/v1/agent/boards/:board_id/gateway/main/ask-user": {
    who: only("lead"),
    probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}/gateway/main/ask-user?wait_ms=0`, body: { content: "matrix probe" } })
  },

  // leadMessageRoutes: a gateway-main agent, to boards of its own gateway (a broadcast to a board elsewhere is a per-board miss, 200).
  "POST /api/v1/agent/gateway/boards/:board_id/lead/message": {
    who: only("main"),
    probe: (w) => ({ path: `/api/v1/agent/gateway/boards/${w.boards.board}/lead/message?wait_ms=0`, body: { content: "matrix probe" } })
  },
  "POST /api/v1/agent/gateway/leads/broadcast": {
    who: only("main", "otherMain"),
    probe: (w) => ({ path: "/api/v1/agent/gateway/leads/broadcast?wait_ms=0", body: { content: "matrix probe", board_ids: [w.missing] } })
  },

  // boardMemoryRoutes: the admin, the board's agents and its gateway's main agent.
  "GET /api/v1/boards/:id/memory": { who: only("admin", "main", "lead", "worker"), probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}/memory` }) },
  "POST /api/v1/boards/:id/memory": {
    who: only("admin", "main", "lead", "worker"),
    probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}/memory`, body: { content: "matrix probe" } })
  },
  "GET /api/v1/agent/boards/:board_id/memory": { who: only("admin", "main", "lead", "worker"), probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}/memory` }) },
  "POST /api/v1/agent/boards/:board_id/memory": {
    who: only("admin", "main", "lead", "worker"),
    probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}/memory`, body: { content: "matrix probe" } })
  },

  // onboardingRoutes: the admin drives it; the gateway-main agent posts back (no onboarding started: 404 after the checks).
  "GET /api/v1/boards/:id/onboarding": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.boards.board}/onboarding` }) },
  "POST /api/v1/boards/:id/onboarding/start": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.missing}/onboarding/start?wait_ms=0` }) },
  "POST /api/v1/boards/:id/onboarding/answer": { who: ADMIN, probe: (w) => ({ path: `/api/v1/boards/${w.missing}/onboarding/answer?wait_ms=0`, body: { answer: "probe" } }) },
  "POST /api/v1/agent/boards/:board_id/onboarding": {
    who: only("main"),
    probe: (w) => ({ path: `/api/v1/agent/boards/${w.boards.board}/onboarding`, body: { question: "matrix probe?" } })
  },

  // messageRoutes: one message for the admin or the agent that sent it; an agent's received messages for the admin.
  "GET /api/v1/messages/:id": { who: only("admin", "worker"), probe: (w) => ({ path: `/api/v1/messages/${w.workerMessage}` }) },
  "GET /api/v1/agents/:id/messages": { who: ADMIN, probe: (w) => ({ path: `/api/v1/agents/${w.agents.ada.id}/messages` }) }
}

/** The router's routes as `METHOD /path/:param`, in router order. */
const ROUTES = Chunk.toReadonlyArray(router.routes).map((route) => `${route.method} ${route.path}`)

describe("authorisation matrix: every route × admin, main, lead, worker, worker of another board, main of another gateway, inbox key, no credentials", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let world: World
  let credentials: Record<Actor, Record<string, string>>

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50 })
    const fleet = await createFleet(service, simulator)
    const inboxKey = await issueInboxKey(service, fleet.agents.ada.id)
    const sent = await callWith(service.url, "POST", "/api/gateway/send-message", { "x-api-key": inboxKey }, { to: "Bob", content: "matrix" })
    expect(sent.status).toBe(202)
    world = { ...fleet, missing: crypto.randomUUID(), workerMessage: sent.body.message_id }
    credentials = {
      admin: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      main: { "x-agent-token": fleet.agents.main.token },
      lead: { "x-agent-token": fleet.agents.lead.token },
      worker: { "x-agent-token": fleet.agents.ada.token },
      otherWorker: { "x-agent-token": fleet.agents.carol.token },
      otherMain: { "x-agent-token": fleet.agents.awayMain.token },
      inboxKey: { "x-api-key": inboxKey },
      none: {}
    }
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  /** One cell: the status the actor gets for the row's probe (streams are cut after the headers). */
  const ask = async (route: string, actor: Actor) => {
    const method = route.slice(0, route.indexOf(" "))
    const probe = MATRIX[route]!.probe(world)
    const response = await fetch(`${service.url}${probe.path}`, {
      method,
      headers: { ...(probe.body === undefined ? {} : { "content-type": "application/json" }), ...credentials[actor] },
      ...(probe.body === undefined ? {} : { body: JSON.stringify(probe.body) })
    })
    await response.body?.cancel()
    return response.status
  }

  it("has exactly one row per route the router serves", () => {
    expect(ROUTES.length).toBeGreaterThan(40)
    expect(new Set(ROUTES).size).toBe(ROUTES.length)
    // A route without a row: add it to MATRIX (who may call it, and a probe that changes nothing).
    expect(ROUTES.filter((route) => MATRIX[route] === undefined)).toEqual([])
    // A row without a route: the route was removed or renamed.
    expect(Object.keys(MATRIX).filter((route) => !ROUTES.includes(route))).toEqual([])
  })

  it("matches /openapi.json: an operation offers the admin token, an agent token or an inbox key exactly where the matrix allows it", () => {
    const document = buildOpenApiDocument()
    const schemesOf = (route: string) => {
      const [method, path] = route.split(" ") as [string, string]
      const operation = (document.paths?.[path.replace(/:(\w+)/g, "{$1}")] as Record<string, { security?: Array<Record<string, unknown>> }> | undefined)?.[method.toLowerCase()]
      return new Set((operation?.security ?? []).flatMap((requirement) => Object.keys(requirement)))
    }
    const offered = (route: string) => {
      const schemes = schemesOf(route)
      if (schemes.size === 0) return { admin: "allow", agent: "allow", inboxKey: "allow" }
      return {
        admin: schemes.has("adminBearer") ? "allow" : "deny",
        agent: schemes.has("agentToken") ? "allow" : "deny",
        inboxKey: schemes.has("inboxKey") ? "allow" : "deny"
      }
    }
    const allowed = (route: string) => {
      const who = MATRIX[route]!.who
      return { admin: who.admin, agent: AGENT_TOKENS.some((actor) => who[actor] === "allow") ? "allow" : "deny", inboxKey: who.inboxKey }
    }
    const rows = ROUTES.filter((route) => MATRIX[route] !== undefined)
    expect(Object.fromEntries(rows.map((route) => [route, offered(route)]))).toEqual(Object.fromEntries(rows.map((route) => [route, allowed(route)])))
  })

  it.each(ROUTES.filter((route) => MATRIX[route] !== undefined))("%s", async (route) => {
    const statuses = Object.fromEntries(await Promise.all(ACTORS.map(async (actor) => [actor, await ask(route, actor)] as const))) as Record<Actor, number>
    const cells = Object.fromEntries(ACTORS.map((actor) => [actor, statuses[actor] === 401 || statuses[actor] === 403 ? "deny" : "allow"]))
    expect({ cells, statuses }).toEqual({ cells: MATRIX[route]!.who, statuses: expect.anything() })
    for (const actor of ACTORS) expect(statuses[actor], `${actor}: ${statuses[actor]}`).toBeLessThan(500)
    if (MATRIX[route]!.who.none === "deny") expect(statuses.none).toBe(401)
  })
})
