import { randomUUID } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { connectRaw, type RawConnection } from "../support/rawGatewayClient.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"

const gateway = inject("realGateway")

const POLL = { timeout: 30_000, interval: 250 }

/**
 * Adoption on a real OpenClaw gateway (docs/operations.md §6.2 "Adopt", §8 "Workspace drift"):
 * an agent created directly on the gateway is taken over, keeps its SOUL.md, gets AGENTS.md
 * with its token and comes online with one curl-back; an out-of-band edit of AGENTS.md then
 * shows as drift, compared against the hashes the real gateway reports.
 */
describe.skipIf(gateway === null)("adopting an agent created directly on a real OpenClaw gateway", () => {
  let db: { url: string; drop: () => Promise<void> }
  let service: ServiceProcess
  let raw: RawConnection
  let gatewayId: string
  let boardId: string
  const gatewayAgentId = `sy-adopt-${randomUUID().slice(0, 8)}`
  const soul = `# SOUL\nI was made by hand (${gatewayAgentId}).\n`
  const fileOn = async (name: string) =>
    ((await raw.call("agents.files.get", { agentId: gatewayAgentId, name })).payload as { file: { content?: string } } | undefined)?.file.content

  beforeAll(async () => {
    db = await createTestDatabase()
    service = await startService({
      DATABASE_URL: db.url,
      SWITCHYARD_CHECKIN_TIMEOUT_MS: "120000",
      SWITCHYARD_LIVENESS_WATCHERS: "false",
      SWITCHYARD_WORKSPACE_CHECK_MS: "1000"
    })
    raw = await connectRaw(gateway!)
    const registered = await service.api("POST", "/api/v1/gateways", { name: "adopt", url: gateway!.url, token: gateway!.token, workspace_root: mkdtempSync(path.join(tmpdir(), "sy-adopt-")) })
    expect(registered.status).toBe(201)
    gatewayId = registered.body.id
    boardId = (await service.api("POST", "/api/v1/boards", { name: "Adopted", gateway_id: gatewayId })).body.id
  })

  afterAll(async () => {
    await raw?.close()
    await service?.kill("SIGTERM")
    await db?.drop()
  })

  it("takes over the agent without re-creating it, keeps its files, and shows an out-of-band edit as drift", async () => {
    const workspace = mkdtempSync(path.join(tmpdir(), "sy-handmade-"))
    const created = await raw.call("agents.create", { name: gatewayAgentId, workspace })
    expect(created.ok, JSON.stringify(created)).toBe(true)
    await expect
      .poll(async () => ((await raw.call("agents.list", {})).payload as { agents: Array<{ id: string }> }).agents.map((agent) => agent.id), POLL)
      .toContain(gatewayAgentId)
    await expect.poll(async () => (await raw.call("agents.files.set", { agentId: gatewayAgentId, name: "SOUL.md", content: soul })).ok, POLL).toBe(true)

    const started = Date.now()
    const adopted = await service.api("POST", `/api/v1/gateways/${gatewayId}/agents/adopt?wait_for=provisioning.awaiting&timeout_ms=90000`, {
      gateway_agent_id: gatewayAgentId,
      board_id: boardId,
      name: "Handmade",
      heartbeat_config: { every: "0m" }
    })
    console.log(`[measure] adopt → files applied and woken on the real gateway: ${Date.now() - started} ms`)
    expect(adopted.status, JSON.stringify(adopted.body)).toBe(201)
    expect(adopted.body).toMatchObject({ gateway_agent_id: gatewayAgentId, state: "provisioning.awaiting", last_error: null })

    expect(await fileOn("SOUL.md")).toBe(soul)
    const token = readAuthToken((await fileOn("AGENTS.md")) ?? "")
    expect(token).toBeDefined()
    const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
    expect(beat.status).toBe(200)
    expect((await service.api("GET", `/api/v1/agents/${adopted.body.id}`)).body.status).toBe("online")

    const again = await service.api("POST", `/api/v1/gateways/${gatewayId}/agents/adopt`, { gateway_agent_id: gatewayAgentId, board_id: boardId, name: "Twice" })
    expect(again.status).toBe(409)

    const workspaceOf = async () => (await service.api("GET", `/api/v1/agents/${adopted.body.id}`)).body.workspace
    await expect.poll(workspaceOf, POLL).not.toBeNull()
    expect((await workspaceOf()).drifted).toEqual([])
    expect((await raw.call("agents.files.set", { agentId: gatewayAgentId, name: "AGENTS.md", content: `${(await fileOn("AGENTS.md")) ?? ""}\nEdited by hand.\n` })).ok).toBe(true)
    const edited = Date.now()
    await expect.poll(async () => (await workspaceOf()).drifted, POLL).toEqual(["AGENTS.md"])
    console.log(`[measure] out-of-band edit → drift shown (checks every 1 s): ${Date.now() - edited} ms`)

    const deleting = Date.now()
    const deleted = await service.api("DELETE", `/api/v1/agents/${adopted.body.id}?wait_for=deleted&timeout_ms=60000`)
    expect(deleted.status).toBe(200)
    console.log(`[measure] delete of the adopted agent on the real gateway: ${Date.now() - deleting} ms`)
  })
})
