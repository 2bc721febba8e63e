import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { startOpenClawGateway, type RealGateway } from "../support/openclawGateway.ts"
import { connectRaw } from "../support/rawGatewayClient.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"
import { failedWakeLiveness } from "../liveness/failedWakeLiveness.ts"

/** How long the gateway may be away before its agents go offline, here (default 90 s). */
const LOST_AFTER_MS = 10_000
const SOAK_MS = 60_000

/** Polls `read` every 250 ms until `accept` holds or `ms` pass; returns the last value. */
const until = async <T>(read: () => Promise<T>, accept: (value: T) => boolean, ms = 60_000): Promise<T> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (accept(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

// Its own gateway: a case stops and restarts it. The agents' LLM heartbeats are off ("0m"), so
// liveness comes from the gateway's signals alone; runs fail without model credentials.
describe.skipIf(inject("realGateway") === null)("liveness from a real OpenClaw gateway", () => {
  let gateway: RealGateway
  let db: { url: string; drop: () => Promise<void> }
  let service: ServiceProcess
  let gatewayId: string
  let boardId: string

  const agentOf = async (id: string) => (await service.api("GET", `/api/v1/agents/${id}`)).body
  const rawCall = async (method: string, params: unknown) => {
    const raw = await connectRaw(gateway)
    try {
      return await raw.call(method, params)
    } finally {
      await raw.close()
    }
  }
  /** An agent with LLM heartbeats off, provisioned and woken on the gateway, and online after one curl-back. */
  const onlineAgent = async (name: string) => {
    const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=90000", {
      name,
      board_id: boardId,
      heartbeat_config: { every: "0m" }
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const file = (await rawCall("agents.files.get", { agentId: created.body.gateway_agent_id, name: "AGENTS.md" })).payload as { file: { content?: string } }
    const token = readAuthToken(file.file.content ?? "") ?? ""
    const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token } })
    expect(beat.status).toBe(200)
    return { id: created.body.id as string, gatewayAgentId: created.body.gateway_agent_id as string }
  }

  beforeAll(async () => {
    gateway = await startOpenClawGateway()
    db = await createTestDatabase()
    service = await startService({
      DATABASE_URL: db.url,
      SWITCHYARD_CHECKIN_TIMEOUT_MS: "120000",
      SWITCHYARD_LIVENESS_PROBE_MS: "1000",
      SWITCHYARD_RECONCILE_MS: "2000",
      SWITCHYARD_GATEWAY_LOST_AFTER_MS: String(LOST_AFTER_MS)
    })
    const registered = await service.api("POST", "/api/v1/gateways", {
      name: "live",
      url: gateway.url,
      token: gateway.token,
      workspace_root: mkdtempSync(path.join(tmpdir(), "sy-live-"))
    })
    expect(registered.status).toBe(201)
    gatewayId = registered.body.id
    boardId = (await service.api("POST", "/api/v1/boards", { name: "Live", gateway_id: gatewayId })).body.id
    const watched = await until(() => service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`), (r) => r.body?.reachable === true, 30_000)
    expect(watched.body).toMatchObject({ reachable: true, degraded: [] })
  })

  afterAll(async () => {
    await service?.kill("SIGTERM")
    await db?.drop()
    await gateway?.stop()
  })

  it("a wake's run counts as activity; the failed run shows its reason; the effective heartbeat reads disabled", async () => {
    const agent = await onlineAgent("Wakeful")
    const view = await until(() => agentOf(agent.id), (a) => a.liveness?.last_run?.outcome === "error", 30_000)
    expect(view.status).toBe("online")
    expect(view.liveness).toMatchObject(failedWakeLiveness)
    expect(view.liveness.last_activity_at).not.toBeNull()
  })

  it(`stays online over a ${SOAK_MS / 1_000} s idle soak with LLM heartbeats off (no false offline)`, async () => {
    const agent = await onlineAgent("Idle")
    let falseOffline = 0
    const started = Date.now()
    while (Date.now() - started < SOAK_MS) {
      if ((await agentOf(agent.id)).status !== "online") falseOffline += 1
      await new Promise((resolve) => setTimeout(resolve, 1_000))
    }
    console.log(`[measure] false-offline samples over a ${SOAK_MS / 1_000} s idle soak (heartbeats off): ${falseOffline}`)
    expect(falseOffline).toBe(0)
  }, 120_000)

  it("deleting the agent on the gateway behind our back shows it as missing", async () => {
    const agent = await onlineAgent("Doomed")
    const deleteSent = Date.now()
    const deleted = await rawCall("agents.delete", { agentId: agent.gatewayAgentId, deleteFiles: true })
    expect(deleted.ok, JSON.stringify(deleted)).toBe(true)
    const deleteAnswered = Date.now()
    const view = await until(() => agentOf(agent.id), (a) => a.liveness?.missing_on_gateway === true, 30_000)
    const shown = Date.now()
    console.log(`[measure] out-of-band delete answered → shown missing: ${shown - deleteAnswered} ms (from the call: ${shown - deleteSent} ms; reconcile every 2 s)`)
    expect(view).toMatchObject({ status: "offline", offline_reason: `deleted on the gateway: ${agent.gatewayAgentId} is missing from agents.list` })
    expect(view.liveness.offline_cause).toBe("gateway_missing")
  })

  it("stopping the gateway turns its agents offline with 'gateway unreachable' within the threshold; they come back after restart", async () => {
    const agent = await onlineAgent("Steady")
    const stoppedAt = Date.now()
    await gateway.halt()
    const offline = await until(() => agentOf(agent.id), (a) => a.status === "offline", LOST_AFTER_MS + 30_000)
    const toOffline = Date.now() - stoppedAt
    console.log(`[measure] gateway stop → its agents offline: ${toOffline} ms (threshold ${LOST_AFTER_MS} ms)`)
    expect(offline).toMatchObject({ status: "offline", offline_reason: `gateway unreachable for more than ${LOST_AFTER_MS / 1_000} s` })
    expect(offline.liveness).toMatchObject({ gateway_reachable: false, offline_cause: "gateway_unreachable" })

    const restartedAt = Date.now()
    // A restart with state reads it back: 10–90 s on a shared 2-core machine.
    gateway = await startOpenClawGateway({ reuse: gateway.reusable, readyTimeoutMs: 240_000 })
    const ready = Date.now()
    const online = await until(() => agentOf(agent.id), (a) => a.status === "online", 60_000)
    console.log(`[measure] gateway restart → its agents online: ${Date.now() - restartedAt} ms (of which the gateway's own start ${ready - restartedAt} ms)`)
    expect(online.liveness).toMatchObject({ gateway_reachable: true, offline_cause: null })
  }, 400_000)
})
