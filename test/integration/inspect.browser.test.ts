import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from "../inspect/inspectorPage.ts"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test-artifacts")

if (!hasChromium) console.warn(`inspect.browser.test: SKIPPED, ${CHROMIUM} is missing (install it with \`bash scripts/install-chromium.sh\`; CI does)`)

describe.skipIf(!hasChromium)("the visualiser (/inspect) in headless Chromium", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let context: BrowserContext
  let page: Page
  let profile: string
  let boardId: string
  /** Every URL the page requested, and every script error or error it logged. */
  const requested: Array<string> = []
  const pageErrors: Array<string> = []

  /** The state the chart highlights (`g.state.active`), or null when none is. */
  const highlighted = () => page.locator("svg.statechart g.state.active").getAttribute("data-state", { timeout: 1_000 }).catch(() => null)

  /** Whether this server answers `GET /api/v1/agents/stream` with an event stream. */
  const hasPushStream = async () => {
    const abort = new AbortController()
    const response = await fetch(`${service.url}/api/v1/agents/stream`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, signal: abort.signal })
    abort.abort()
    return response.ok && (response.headers.get("content-type") ?? "").startsWith("text/event-stream")
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    // A long check-in timeout keeps the agent in provisioning.awaiting until the test heartbeats.
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50 })
    ;({ boardId } = await registerGatewayAndBoard(service, simulator, "inspect"))
    profile = mkdtempSync(path.join(tmpdir(), "sy-chromium-"))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1680, height: 940 }
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.on("request", (request) => requested.push(request.url()))
    page.on("pageerror", (error) => pageErrors.push(error.message))
    // Chromium logs every non-2xx fetch; the page expects some (a 404 decides a fallback).
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text())
    })
  })

  afterAll(async () => {
    await context?.close()
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("opens an agent from the fleet view, draws the statechart, follows the agent from provisioning.awaiting to online live, and sends an update in one click", async () => {
    const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: "Ada", board_id: boardId })
    expect(created.status).toBe(201)
    const agent = created.body as { id: string; gateway_agent_id: string }

    // /inspect opens on the fleet view, which asks for the token first.
    await page.goto(`${service.url}/inspect`)
    await page.fill("#admin-token", TEST_ADMIN_TOKEN)
    await page.click("#token-form button[type=submit]")
    // The agent is one search and one click away.
    await page.waitForSelector("body[data-counts-drawn]", { timeout: 20_000 })
    await page.fill("#agent-search", "Ada")
    await page.locator(`#agent-list .agent-row[data-agent-id="${agent.id}"] a.name`).click({ timeout: 20_000 })
    expect(page.url()).toContain(`#agent=${agent.id}`)
    // The agent view draws every state of the machine, compound ones with their substates.
    await expect.poll(() => page.locator("svg.statechart g.state").count(), { timeout: 20_000 }).toBeGreaterThan(15)
    for (const state of ["provisioning", "provisioning.awaiting", "updating.failed", "deleting.removing", "online", "offline", "deleted"]) {
      expect(await page.locator(`g.state[data-state="${state}"]`).count(), state).toBe(1)
    }
    expect(await page.locator('g.transition[data-source="provisioning.awaiting"][data-event="agent.heartbeat"]').count()).toBe(1)
    await expect.poll(highlighted, { timeout: 20_000 }).toBe("provisioning.awaiting")
    expect(await page.locator('g.state.active-ancestor[data-state="provisioning"]').count()).toBe(1)
    expect(await page.textContent("#agent-state")).toBe("provisioning.awaiting")
    // A single process is a one-runner cluster: this instance owns the agent's gateway.
    await expect.poll(() => page.textContent("#agent-runner")).toMatch(/^\S+:\d+ \(this instance\)$/)
    // Allowed here: update and delete; retry only from a failed substate or offline.
    expect(await page.isDisabled('button[data-action="retry"]')).toBe(true)
    expect(await page.isEnabled('button[data-action="update"]')).toBe(true)
    expect(await page.isEnabled('button[data-action="delete"]')).toBe(true)
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true))
    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, "inspect-awaiting.png") })

    const token = readAuthToken(simulator.state.files.get(agent.gateway_agent_id)?.get("AGENTS.md") ?? "")
    expect(token).toMatch(/^sy_/)
    const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token! } })
    expect(beat.status).toBe(200)

    await expect.poll(highlighted, { timeout: 15_000 }).toBe("online")
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true)
    await expect.poll(() => page.textContent("#agent-state")).toBe("online")
    // Online's offline deadline is possible now (to offline when the liveness judgment says so).
    expect(await page.locator('g.transition.possible[data-source="online"][data-target="offline"][data-event="deadline.reached"]').count()).toBe(1)
    // The push stream is primary; until the server has one the page polls. Either way it says which.
    const mode = (await hasPushStream()) ? "stream" : "polling"
    await expect.poll(() => page.getAttribute("#live-status", "data-mode")).toBe(mode)
    console.log(`[inspect] live updates: ${await page.textContent("#live-status")}`)
    // The history has the check-in once: from the transition log (or, on a server without it, the activity feed).
    const checkIns = () => page.locator(".history tbody tr", { hasText: /agent\.heartbeat|agent\.online/ }).count()
    await expect.poll(checkIns).toBe(1)

    const screenshot = path.join(ARTIFACTS, "inspect.png")
    await page.screenshot({ path: screenshot })
    console.log(`[inspect] screenshots: ${screenshot} (online), ${path.join(ARTIFACTS, "inspect-awaiting.png")} (before the heartbeat)`)

    // One click sends agent.update through PATCH …?force=true; the chart follows it back to online.
    await page.click('button[data-action="update"]')
    await expect.poll(highlighted, { timeout: 15_000 }).toMatch(/^updating\./)
    await expect.poll(() => page.textContent(".actions .result")).toMatch(/^update: HTTP 200/)

    const origin = new URL(service.url).origin
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
