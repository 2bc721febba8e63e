import { randomUUID } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { connectRaw, type RawConnection } from "../support/rawGatewayClient.ts"

const gateway = inject("realGateway")

/** Applying an agent on the real gateway (agents.create, a hot-reloading config.patch, files, a wake) takes seconds to a minute. */
const PROVISION_MS = 120_000

describe.skipIf(gateway === null)("coordination against a real OpenClaw gateway: nudge, SOUL.md, lead message", () => {
  let db: { url: string; drop: () => Promise<void> }
  let service: InProcessService
  let raw: RawConnection
  let gatewayId: string
  const suffix = randomUUID().slice(0, 6)

  const fileOn = async (agentId: string, name: string) =>
    ((await raw.call("agents.files.get", { agentId, name })).payload as { file?: { content?: string } } | undefined)?.file?.content ?? ""
  /** The session's history as text, so user rows match whatever shape their content has. */
  const historyOf = async (sessionKey: string) => JSON.stringify((await raw.call("chat.history", { sessionKey, limit: 50 })).payload ?? null)
  const agentCall = async (token: string, method: string, route: string, body?: unknown) => {
    const response = await fetch(`${service.url}${route}`, {
      method,
      headers: { "content-type": "application/json", "x-agent-token": token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: (await response.json()) as any }
  }
  const awaitApplied = async (agentId: string) => {
    const deadline = Date.now() + PROVISION_MS
    for (;;) {
      const seen = (await service.api("GET", `/api/v1/agents/${agentId}`)).body
      if (seen.state === "provisioning.awaiting" || seen.state === "online") return seen
      if (Date.now() > deadline) throw new Error(`agent ${agentId} is ${seen.state}: ${JSON.stringify(seen.last_error)}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  const tokenOf = async (gatewayAgentId: string) => {
    const token = readAuthToken(await fileOn(gatewayAgentId, "AGENTS.md"))
    if (token === undefined) throw new Error(`no token in AGENTS.md of ${gatewayAgentId}`)
    return token
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 600_000, offlineAfterMs: 600_000 })
    raw = await connectRaw(gateway!)
    const created = await service.api("POST", "/api/v1/gateways", {
      name: `coord-${suffix}`,
      url: gateway!.url,
      token: gateway!.token,
      workspace_root: mkdtempSync(path.join(tmpdir(), "sy-coordination-"))
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    gatewayId = created.body.id
  })
  afterAll(async () => {
    // Our agents leave the shared gateway with their gateway (main last).
    if (gatewayId !== undefined) await service?.api("DELETE", `/api/v1/gateways/${gatewayId}`).catch(() => undefined)
    await raw?.close()
    await service?.stop()
    await db?.drop()
  })

  it("a lead's nudge reaches the worker's session (chat.history shows it), and its SOUL.md write reads back through agents.files.get", async () => {
    const board = (await service.api("POST", "/api/v1/boards", { name: `Nudges ${suffix}`, gateway_id: gatewayId })).body.id as string
    const lead = await awaitApplied((await service.api("POST", `/api/v1/boards/${board}/lead`, { name: `Lead ${suffix}` })).body.id)
    const worker = await awaitApplied((await service.api("POST", "/api/v1/agents", { name: `Worker ${suffix}`, board_id: board })).body.id)
    const leadToken = await tokenOf(lead.gateway_agent_id)

    const text = `Nudge from your lead ${randomUUID()}`
    const nudged = await agentCall(leadToken, "POST", `/api/v1/agent/boards/${board}/agents/${worker.id}/nudge?wait_ms=30000`, { message: text })
    expect(nudged.status, JSON.stringify(nudged.body)).toBe(200)
    expect(nudged.body.message).toMatchObject({ kind: "nudge", deliver: true, status: "delivered", last_error: null })
    // The gateway writes the user row when the run starts, not at the ack.
    await expect.poll(() => historyOf(worker.session_key), { timeout: 60_000, interval: 500 }).toContain(text)
    expect((await service.api("GET", `/api/v1/messages/${nudged.body.message.id}`)).body.status).toBe("delivered")

    const soul = `# SOUL.md\n\nSteady and exact. Written by the lead for {{ agent_name }} (${randomUUID()}).`
    const written = await agentCall(leadToken, "PUT", `/api/v1/agent/boards/${board}/agents/${worker.id}/soul?wait_ms=60000`, {
      content: soul,
      reason: "integration test",
      source_url: "https://example.com/soul"
    })
    expect(written.status, JSON.stringify(written.body)).toBe(200)
    expect(written.body).toMatchObject({ applied: true, last_error: null })
    const expected = `${soul.replace("{{ agent_name }}", `Worker ${suffix}`)}\n`
    expect(await fileOn(worker.gateway_agent_id, "SOUL.md")).toBe(expected)
    const read = await agentCall(await tokenOf(worker.gateway_agent_id), "GET", `/api/v1/agent/boards/${board}/agents/${worker.id}/soul`)
    expect(read.body).toEqual({ agent_id: worker.id, name: "SOUL.md", content: expected })
  })

  it("the main agent's lead message to a board without a lead creates the lead and reaches its session", async () => {
    const board = (await service.api("POST", "/api/v1/boards", { name: `Leadless ${suffix}`, gateway_id: gatewayId })).body.id as string
    const mainId = (await service.api("GET", `/api/v1/agents?gateway_id=${gatewayId}`)).body.items.find((agent: { role: string }) => agent.role === "main").id
    const main = await awaitApplied(mainId)
    const content = `Please plan the first week ${randomUUID()}`
    const sent = await agentCall(await tokenOf(main.gateway_agent_id), "POST", `/api/v1/agent/gateway/boards/${board}/lead/message?wait_ms=0`, { kind: "question", content })
    expect(sent.status, JSON.stringify(sent.body)).toBe(202)
    expect(sent.body).toMatchObject({ ok: true, lead_created: true, board_id: board, message: { kind: "lead_question", status: "pending" } })
    const lead = (await service.api("GET", `/api/v1/agents/${sent.body.lead_agent_id}`)).body
    expect(lead).toMatchObject({ role: "lead", board_id: board })
    // Delivered once the new lead exists on the gateway.
    await expect.poll(async () => (await service.api("GET", `/api/v1/messages/${sent.body.message.id}`)).body.status, { timeout: PROVISION_MS, interval: 1_000 }).toBe("delivered")
    expect((await raw.call("agents.list", {})).payload).toMatchObject({ agents: expect.arrayContaining([expect.objectContaining({ id: lead.gateway_agent_id })]) })
    await expect.poll(() => historyOf(lead.session_key), { timeout: 60_000, interval: 500 }).toContain(content)
    expect(await historyOf(lead.session_key)).toContain("GATEWAY MAIN QUESTION")
  })
})
