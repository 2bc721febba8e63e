import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { connectRaw, type RawConnection } from "../support/rawGatewayClient.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"

const gateway = inject("realGateway")
const OFFLINE_AFTER_MS = 4_000

/** Polls `read` until `accept` holds (every 200 ms, up to `ms`); returns the last value. */
const until = async <T>(read: () => Promise<T>, accept: (value: T) => boolean, ms = 60_000): Promise<T> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (accept(value) || Date.now() > deadline) return value
    await new Promise((r) => setTimeout(r, 200))
  }
}


describe.skipIf(gateway === null)("agent lifecycle over HTTP against a real OpenClaw gateway", () => {
  let db: { url: string; drop: () => Promise<void> }
  let service: ServiceProcess
  let raw: RawConnection
  let boardId: string
  let gatewayId: string
  // Silence times out on the floor alone (factor 0), without gateway signals: the curl-back lifecycle as such.
  const env = () => ({
    DATABASE_URL: db.url,
    SWITCHYARD_OFFLINE_AFTER_MS: String(OFFLINE_AFTER_MS),
    SWITCHYARD_CHECKIN_TIMEOUT_MS: "120000",
    SWITCHYARD_OFFLINE_FACTOR: "0",
    SWITCHYARD_LIVENESS_WATCHERS: "false"
  })
  const fileOn = async (agentId: string, name: string) => {
    const result = await raw.call("agents.files.get", { agentId, name })
    return (result.payload as { file: { missing?: boolean; content?: string } } | undefined)?.file
  }
  const gatewayAgentIds = async () =>
    ((await raw.call("agents.list", {})).payload as { agents: Array<{ id: string }> }).agents.map((agent) => agent.id)
  const heartbeat = async (token: string) => {
    const response = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token } })
    return { status: response.status, json: async () => (await response.json()) as { id: string; status: string } }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    service = await startService(env())
    raw = await connectRaw(gateway!)
    const workspaceRoot = mkdtempSync(path.join(tmpdir(), "sy-workspaces-"))
    const created = await service.api("POST", "/api/v1/gateways", { name: "local", url: gateway!.url, token: gateway!.token, workspace_root: workspaceRoot })
    expect(created.status).toBe(201)
    expect(JSON.stringify(created.body)).not.toContain(gateway!.token)
    gatewayId = created.body.id
    const board = await service.api("POST", "/api/v1/boards", { name: "Launch", gateway_id: gatewayId })
    boardId = board.body.id
  })

  afterAll(async () => {
    await raw?.close()
    await service?.kill("SIGTERM")
    await db?.drop()
  })

  let agent: { id: string; gateway_agent_id: string }
  let firstToken: string

  it("create → the agent and its workspace files appear on the gateway", async () => {
    const started = Date.now()
    const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=60000", { name: "Ada", board_id: boardId })
    const elapsed = Date.now() - started
    expect(created.status).toBe(201)
    agent = created.body
    expect(created.body).toMatchObject({ status: "provisioning", state: "provisioning.awaiting", gateway_agent_id: `mc-${agent.id}` })
    console.log(`[measure] POST /agents → files on the real gateway and woken: ${elapsed} ms`)

    expect(await gatewayAgentIds()).toContain(agent.gateway_agent_id)
    const agentsMd = await fileOn(agent.gateway_agent_id, "AGENTS.md")
    expect(agentsMd?.content).toContain(service.url)
    expect(agentsMd?.content).toContain("/api/v1/agent/heartbeat")
    firstToken = readAuthToken(agentsMd?.content ?? "")!
    expect(firstToken).toMatch(/^sy_/)
    expect((await fileOn(agent.gateway_agent_id, "IDENTITY.md"))?.content).toContain("Ada")
    const config = (await raw.call("config.get", {})).payload as { config: { agents: { entries: Record<string, { heartbeat?: unknown }> } } }
    expect(config.config.agents.entries[agent.gateway_agent_id]?.heartbeat).toEqual({ every: "1h", target: "none" })
    const wakeSeen = await until(
      async () => JSON.stringify((await raw.call("chat.history", { sessionKey: `agent:${agent.gateway_agent_id}:main`, limit: 10 })).payload),
      (text) => text.includes("Hello Ada"),
      15_000
    )
    expect(wakeSeen).toContain("Hello Ada")
    const row = await service.api("GET", `/api/v1/agents/${agent.id}`)
    expect(JSON.stringify(row.body)).not.toContain(firstToken)
  })

  it("heartbeat with the token from AGENTS.md → online; a wrong token → 401", async () => {
    const answer = await heartbeat(firstToken)
    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ id: agent.id, status: "online" })
    expect((await heartbeat("sy_not-a-real-token")).status).toBe(401)
  })

  it("silence past the (shortened) threshold → offline; a heartbeat → online again", async () => {
    const offline = await until(() => service.api("GET", `/api/v1/agents/${agent.id}`), (r) => r.body.status === "offline", OFFLINE_AFTER_MS * 3)
    expect(offline.body).toMatchObject({ status: "offline", offline_reason: "no heartbeat for 4 s" })
    expect((await (await heartbeat(firstToken)).json()).status).toBe("online")
  })

  it("patch → updating → online, files re-rendered with a new token, USER.md kept", async () => {
    const edited = "# USER\nThe agent wrote this.\n"
    expect((await raw.call("agents.files.set", { agentId: agent.gateway_agent_id, name: "USER.md", content: edited })).ok).toBe(true)
    const patched = await service.api("PATCH", `/api/v1/agents/${agent.id}?wait_for=updating.awaiting&timeout_ms=60000`, { name: "Ada Lovelace" })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ status: "updating", name: "Ada Lovelace" })
    const agentsMd = (await fileOn(agent.gateway_agent_id, "AGENTS.md"))?.content ?? ""
    expect(agentsMd).toContain("Ada Lovelace")
    const newToken = readAuthToken(agentsMd)!
    expect(newToken).not.toBe(firstToken)
    expect((await fileOn(agent.gateway_agent_id, "USER.md"))?.content).toBe(edited)
    expect((await heartbeat(firstToken)).status).toBe(401)
    expect((await (await heartbeat(newToken)).json()).status).toBe("online")
  })

  it("delete → gone from the gateway and from the API", async () => {
    const deleted = await service.api("DELETE", `/api/v1/agents/${agent.id}?wait_for=deleted&timeout_ms=60000`)
    expect(deleted.status).toBe(200)
    expect(deleted.body.status).toBe("deleted")
    expect(await gatewayAgentIds()).not.toContain(agent.gateway_agent_id)
    expect((await service.api("GET", `/api/v1/agents/${agent.id}`)).status).toBe(404)
  })

  it("a service crash in the middle of provisioning converges after restart, with no duplicate agent", async () => {
    const before = await gatewayAgentIds()
    const created = await service.api("POST", "/api/v1/agents", { name: "Grace", board_id: boardId })
    expect(created.body.state).toBe("provisioning.applying")
    await service.kill("SIGKILL")
    service = await startService(env())
    const settled = await until(
      () => service.api("GET", `/api/v1/agents/${created.body.id}`),
      (r) => r.body.state === "provisioning.awaiting"
    )
    expect(settled.body.state).toBe("provisioning.awaiting")
    const after = await gatewayAgentIds()
    expect(after.filter((id) => id === `mc-${created.body.id}`)).toHaveLength(1)
    expect(after.filter((id) => !before.includes(id))).toEqual([`mc-${created.body.id}`])
    const token = readAuthToken((await fileOn(`mc-${created.body.id}`, "AGENTS.md"))?.content ?? "")!
    expect((await (await heartbeat(token)).json()).status).toBe("online")
  })
})
