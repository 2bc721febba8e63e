import { randomUUID } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { ensureMainAgent } from "../../src/fleet/ensureMainAgent.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { openclawRelease } from "../support/openclawRelease.ts"

const gateway = inject("realGateway")

describe.skipIf(gateway === null)("gateway runtime queries against a real OpenClaw gateway", () => {
  let db: { url: string; drop: () => Promise<void> }
  let service: InProcessService
  let gatewayId: string
  // A session of the gateway's own `main` agent, fresh per run: chat.send creates it.
  const key = `agent:main:switchyard-query-${randomUUID().slice(0, 8)}`
  const route = (suffix: string) => `/api/v1/gateways/${gatewayId}${suffix}`
  /**
   * GET `suffix` until it answers without an error `detail` (a 502 while the gateway refuses): a
   * gateway deleting agents (another file's, still draining) refuses sessions.list for seconds, at
   * times longer than a query's own 10 s of retries (docs/gateway-protocol.md §9).
   */
  const served = async (suffix: string) => {
    let answer: Awaited<ReturnType<InProcessService["api"]>> | undefined
    await expect
      .poll(async () => (answer = await service.api("GET", route(suffix))).body.detail, { timeout: 60_000, interval: 500, message: `GET ${suffix} still answers an error` })
      .toBeUndefined()
    return answer!
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000 })
    const created = await service.api("POST", "/api/v1/gateways", {
      name: "real-queries",
      url: gateway!.url,
      token: gateway!.token,
      workspace_root: mkdtempSync(path.join(tmpdir(), "sy-queries-"))
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    gatewayId = created.body.id
    // The main agent's provisioning (agents.create, a hot-reloading config.patch, a wake) slows
    // the gateway for seconds; let it settle so the timings below are the queries' own.
    const main = await service.runtime.runPromise(ensureMainAgent({ id: gatewayId, name: "real-queries" }))
    const deadline = Date.now() + 90_000
    for (;;) {
      const agent = (await service.api("GET", `/api/v1/agents/${main.agentId}`)).body
      if (agent.state === "provisioning.awaiting") break
      if (Date.now() > deadline) throw new Error(`the main agent did not finish provisioning within 90 s: ${agent.state}, last error ${JSON.stringify(agent.last_error)}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })
  afterAll(async () => {
    await service?.stop()
    await db?.drop()
  })

  it("reports status connected with the gateway's version and protocol", async () => {
    // As `served`: a status answers 200 with the refusal as `error` rather than a 502.
    let status: Awaited<ReturnType<InProcessService["api"]>> | undefined
    await expect
      .poll(async () => (status = await service.api("GET", route("/status"))).body.error, { timeout: 60_000, interval: 500, message: "status error while the gateway refuses" })
      .toBeNull()
    expect(status!.status).toBe(200)
    expect(status!.body, status!.body.error ?? "").toMatchObject({ connected: true, server_version: openclawRelease(gateway!.release).version, protocol: 4, version_checked: true, error: null, pairing: null })
    expect(status!.body.sessions_count).toBe(status!.body.sessions.length)
    expect(status!.body.main_session).toMatchObject({ key: `agent:mc-gateway-${gatewayId}:main` })
    expect(JSON.stringify(status!.body)).not.toContain(gateway!.token)
  })

  it("lists the commands the gateway advertised", async () => {
    const commands = await service.api("GET", route("/commands"))
    expect(commands.status).toBe(200)
    expect(commands.body.protocol_version).toBe(4)
    expect(commands.body.methods).toContain("chat.send")
    expect(commands.body.events).toContain("tick")
  })

  it("sends a message that the session's history then shows, and reads the session by its encoded key", async () => {
    const content = `switchyard query test ${randomUUID()}`
    const sent = await service.api("POST", route(`/sessions/${encodeURIComponent(key)}/message`), { content }, { "idempotency-key": `sy-${randomUUID()}` })
    expect(sent.status).toBe(202)
    expect(sent.body).toMatchObject({ ok: true, status: "started" })
    // The gateway writes the user row when the run starts, not at the ack (docs/gateway-protocol.md §5 chat.send).
    await expect
      .poll(async () => (await service.api("GET", route(`/sessions/${encodeURIComponent(key)}/history?limit=20`))).body.history, {
        timeout: 60_000,
        interval: 250,
        message: "the sent message as a user row of the session's history"
      })
      .toEqual(expect.arrayContaining([expect.objectContaining({ role: "user", content })]))
    const sessions = await served("/sessions")
    expect(sessions.status).toBe(200)
    expect(sessions.body.sessions.map((session: { key: string }) => session.key)).toContain(key)
    const one = await served(`/sessions/${encodeURIComponent(key)}`)
    expect(one.status).toBe(200)
    expect(one.body.session).toMatchObject({ key, agentId: "main" })
  })
})
