import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import { describe, expect, it } from "vitest"
import type { z } from "zod"
import { BoardMemory, MemoryPosted } from "../../src/coordination/http/CoordinationView.ts"
import { LedgerMessage } from "../../src/messages/http/MessageView.ts"
import { GatewayCommands, GatewaySessions, GatewayStatus } from "../../src/fleet/http/GatewayStatusView.ts"
import { GatewayView, RegisteredGateway } from "../../src/fleet/http/GatewayView.ts"
import { InboxPolled } from "../../src/inbox/http/InboxView.ts"
import { buildOpenApiDocument } from "../../src/http/openapi/openApiDocument.ts"
import { TransitionView } from "../../src/streams/http/TransitionView.ts"
import { SyncJobReport, SyncJobStarted } from "../../src/sync/http/SyncJobView.ts"
import { ActivityView, AgentView } from "../../src/agents/http/AgentView.ts"
import { BoardView, TaskView } from "../../src/boards/http/BoardView.ts"
import { listOf, pageOf } from "../../src/http/lists.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { useSimulatedService } from "../support/useSimulatedService.ts"

/**
 * GET /docs and GET /openapi.json (docs/architecture.md §7.4): the page and everything it loads come from the
 * service itself, and the document's response schemas describe what the service answers.
 */
const suite = useSimulatedService({ checkinTimeoutMs: 600_000 })

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${suite.service.url}${path}`, { headers })

describe("GET /docs", () => {
  it("serves Swagger UI offline: no external URL in the page, every asset it names loads from the service", async () => {
    const page = await get("/docs")
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
    expect(page.headers.get("content-security-policy")).toMatch(/^default-src 'self'; script-src 'self';.*connect-src 'self'/)
    const html = await page.text()
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i)
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)
    expect(assets.sort()).toEqual(["/docs/docs.css", "/docs/docs.js", "/docs/favicon-32x32.png", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"])
    for (const asset of assets) {
      const response = await get(asset)
      expect(response.status, asset).toBe(200)
      expect(response.headers.get("content-type"), asset).toMatch(asset.endsWith(".js") ? /^text\/javascript/ : asset.endsWith(".css") ? /^text\/css/ : /^image\/png/)
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(100)
    }
    // The start-up script points Swagger UI at this service's document, with the online validator off.
    const script = await (await get("/docs/docs.js")).text()
    expect(script).toContain('url: "/openapi.json"')
    expect(script).toContain("validatorUrl: null")
  })

  it("revalidates assets by ETag and serves nothing outside its list", async () => {
    const first = await get("/docs/swagger-ui.css")
    const etag = first.headers.get("etag")!
    expect(etag).toMatch(/^"[\w-]{22}"$/)
    expect((await get("/docs/swagger-ui.css", { "if-none-match": etag })).status).toBe(304)
    for (const path of ["/docs/index.html", "/docs/package.json", "/docs/..%2Fpackage.json", "/docs/swagger-ui-bundle.js.map"]) expect((await get(path)).status, path).toBe(404)
  })
})

const CHROMIUM = "/usr/bin/chromium"
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test-artifacts")

/** The page as a browser runs it, under its Content-Security-Policy (`bash scripts/install-chromium.sh`; skipped without Chromium). */
describe.skipIf(!existsSync(CHROMIUM))("GET /docs in headless Chromium", () => {
  it("renders every operation from /openapi.json, requesting nothing from another origin, without errors", async () => {
    const profile = mkdtempSync(path.join(tmpdir(), "sy-docs-chromium-"))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    })
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      const requested: Array<string> = []
      const errors: Array<string> = []
      page.on("request", (request) => requested.push(request.url()))
      page.on("pageerror", (error) => errors.push(error.message))
      // A Content-Security-Policy violation is a console error too.
      page.on("console", (message) => void (message.type() === "error" && errors.push(message.text())))
      await page.goto(`${suite.service.url}/docs`)
      await expect.poll(() => page.locator(".swagger-ui .info .title").textContent({ timeout: 1_000 }).catch(() => null), { timeout: 30_000 }).toMatch(/^Switchyard/)
      mkdirSync(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: path.join(ARTIFACTS, "docs.png") })
      // Swagger UI lists an operation under each of its tags, and renders a long list as it scrolls into view.
      const listed = Object.values(buildOpenApiDocument().paths ?? {})
        .flatMap((item) => Object.values(item as Record<string, { tags?: Array<string> }>))
        .reduce((sum, operation) => sum + (operation.tags?.length ?? 1), 0)
      const seen = new Set<string>()
      for (let scrolled = 0; scrolled <= (await page.locator("html").evaluate((html) => html.scrollHeight)); scrolled += 500) {
        for (const id of await page.locator(".opblock").evaluateAll((blocks) => blocks.map((block) => block.id))) seen.add(id)
        await page.mouse.wheel(0, 500)
        await page.waitForTimeout(50)
      }
      expect(seen.size).toBe(listed)
      expect(seen).toContain("operations-agent-worker-agentHeartbeat")
      const origin = new URL(suite.service.url).origin
      expect(requested.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin)).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  })
})

describe("GET /openapi.json", () => {
  it("is the generated OpenAPI 3.1 document, public", async () => {
    const response = await get("/openapi.json")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toMatch(/^application\/json/)
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())))
  })

  it("describes what the service answers: live answers parse with the response schemas, field for field", async () => {
    const { api } = suite.service
    /** The answer parses, and names exactly the schema's fields. */
    const conforms = (schema: z.ZodObject, body: unknown, where: string) => {
      const parsed = schema.safeParse(body)
      expect(parsed.error?.issues ?? [], where).toEqual([])
      const optional = Object.entries(schema.shape).filter(([, field]) => (field as z.ZodType).safeParse(undefined).success).map(([key]) => key)
      expect(Object.keys(body as object).sort(), where).toEqual(Object.keys(schema.shape).filter((key) => !optional.includes(key) || key in (body as object)).sort())
    }
    const gateway = await api("POST", "/api/v1/gateways", { name: "Sim", url: suite.simulator.url, token: suite.simulator.token, workspace_root: "/srv/gw/workspaces" })
    conforms(RegisteredGateway, gateway.body, "POST /gateways")
    const gatewayId: string = gateway.body.id
    const board = await api("POST", "/api/v1/boards", { name: "Docs", gateway_id: gatewayId })
    conforms(BoardView, board.body, "POST /boards")
    const agent = await api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Ada", board_id: board.body.id })
    expect(agent.status).toBe(201)
    conforms(AgentView, agent.body, "POST /agents")
    const task = await api("POST", `/api/v1/boards/${board.body.id}/tasks`, { title: "Write the docs", assigned_agent_id: agent.body.id })
    conforms(TaskView, task.body, "POST /tasks")

    conforms(listOf(GatewayView), (await api("GET", "/api/v1/gateways")).body, "GET /gateways")
    conforms(listOf(BoardView), (await api("GET", "/api/v1/boards")).body, "GET /boards")
    const agents = (await api("GET", "/api/v1/agents")).body
    conforms(pageOf(AgentView), agents, "GET /agents")
    for (const item of agents.items) conforms(AgentView, item, "GET /agents item")
    conforms(pageOf(ActivityView), (await api("GET", `/api/v1/agents/${agent.body.id}/activity`)).body, "GET /agents/{id}/activity")
    const transitions = (await api("GET", `/api/v1/agents/${agent.body.id}/transitions`)).body
    conforms(pageOf(TransitionView), transitions, "GET /agents/{id}/transitions")
    conforms(TransitionView, transitions.items[0], "transition")
    conforms(GatewayStatus, (await api("GET", `/api/v1/gateways/${gatewayId}/status`)).body, "GET /gateways/{id}/status")
    conforms(GatewaySessions, (await api("GET", `/api/v1/gateways/${gatewayId}/sessions`)).body, "GET /gateways/{id}/sessions")
    conforms(GatewayCommands, (await api("GET", `/api/v1/gateways/${gatewayId}/commands`)).body, "GET /gateways/{id}/commands")

    conforms(pageOf(ActivityView), (await api("GET", "/api/v1/activity")).body, "GET /activity")
    const key = await api("POST", `/api/v1/agents/${agent.body.id}/api-key`)
    expect(key.status).toBe(201)
    const poll = await api("GET", "/api/gateway/poll", undefined, { "x-api-key": key.body.api_key })
    expect(poll.status).toBe(200)
    conforms(InboxPolled, poll.body, "GET /api/gateway/poll")

    // The coordination API: the agent itself, board memory, the message ledger.
    const token = readAuthToken(suite.simulator.state.files.get(agent.body.gateway_agent_id)?.get("AGENTS.md") ?? "")
    const whoAmI = await fetch(`${suite.service.url}/api/v1/agent/healthz`, { headers: { "x-agent-token": token! } })
    expect(await whoAmI.json()).toMatchObject({ ok: true, agent_id: agent.body.id, role: "worker" })
    const posted = await api("POST", `/api/v1/boards/${board.body.id}/memory`, { content: "Docs are generated", tags: ["decision"] })
    expect(posted.status).toBe(201)
    conforms(MemoryPosted, posted.body, "POST /boards/{id}/memory")
    conforms(pageOf(BoardMemory), (await api("GET", `/api/v1/boards/${board.body.id}/memory`)).body, "GET /boards/{id}/memory")
    conforms(pageOf(LedgerMessage), (await api("GET", `/api/v1/agents/${agent.body.id}/messages`)).body, "GET /agents/{id}/messages")

    const job = await api("POST", `/api/v1/gateways/${gatewayId}/templates/sync`, {})
    expect(job.status).toBe(202)
    conforms(SyncJobStarted, job.body, "POST /templates/sync")
    await expect.poll(async () => (await api("GET", job.body.href)).body.status, { timeout: 20_000 }).toBe("done")
    conforms(SyncJobReport, (await api("GET", job.body.href)).body, "GET /templates/sync/{job}")
  })
})
