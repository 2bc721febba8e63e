import { execFileSync } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { freePort } from "../support/freePort.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

const LOCK_EXPIRATION_MS = 5_000

// Two real processes on one database; the owner of the gateway is SIGKILLed (docs/operations.md "Cluster").
describe("the owner of a gateway is killed (real processes, simulated gateway)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let simulator: GatewaySimulator
  const services: Array<ServiceProcess> = []

  const env = async () => ({
    DATABASE_URL: db.url,
    SWITCHYARD_SECRET_KEY: Buffer.alloc(32, 5).toString("base64"),
    SWITCHYARD_CHECKIN_TIMEOUT_MS: "300000",
    SWITCHYARD_OFFLINE_AFTER_MS: "4000",
    // The silence limit is the floor alone (not 1.5 × the heartbeat the gateway reports), docs/operations.md §8.
    SWITCHYARD_OFFLINE_FACTOR: "0",
    SWITCHYARD_RUNNER_PORT: String(await freePort()),
    SWITCHYARD_SHARD_LOCK_EXPIRATION_MS: String(LOCK_EXPIRATION_MS)
  })
  const heartbeat = async (service: ServiceProcess, token: string) => {
    const response = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": token }, body: "{}" })
    return { status: response.status, retryAfter: response.headers.get("retry-after") }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
  })
  afterAll(async () => {
    for (const service of services) await service.kill("SIGKILL")
    await simulator?.stop()
    await db?.drop()
  })

  it("the survivor answers 503 with Retry-After or 200 (never a 500, never a hang), serves within the lock expiry, and the offline deadline still fires", async () => {
    services.push(await startService(await env()), await startService(await env()))
    const [a, b] = services as [ServiceProcess, ServiceProcess]
    const gateway = await a.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status).toBe(201)
    const board = await b.api("POST", "/api/v1/boards", { name: "Kill", gateway_id: gateway.body.id })
    const created = await b.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: "Ada", board_id: board.body.id })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const token = readAuthToken(simulator.state.files.get(created.body.gateway_agent_id)?.get("AGENTS.md") ?? "")!
    expect((await heartbeat(a, token)).status).toBe(200)
    const view = (await a.api("GET", "/api/v1/cluster")).body as { self: string; gateways: Array<{ gateway_id: string; runner: string }> }
    const owner = view.gateways.find((g) => g.gateway_id === gateway.body.id)!.runner
    const [victim, survivor] = owner === view.self ? [a, b] : [b, a]

    await victim.kill("SIGKILL")
    const killed = Date.now()
    const seen = new Set<number>()
    for (;;) {
      const started = Date.now()
      const beat = await heartbeat(survivor, token)
      expect(Date.now() - started).toBeLessThan(15_000)
      seen.add(beat.status)
      if (beat.status === 503) expect(beat.retryAfter).not.toBeNull()
      if (beat.status === 200) break
      expect(Date.now() - killed).toBeLessThan(LOCK_EXPIRATION_MS + 15_000)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    console.log(`[measure] takeover after SIGKILL: survivor answered 200 ${Date.now() - killed} ms after the kill (statuses seen: ${[...seen].join(", ")})`)
    expect([...seen].every((status) => status === 200 || status === 503)).toBe(true)
    // The offline deadline (4 s after the last heartbeat) fires on the new owner.
    await expect.poll(async () => (await survivor.api("GET", `/api/v1/agents/${created.body.id}`)).body.state, { timeout: 15_000, interval: 250 }).toBe("offline")
    const cluster = (await survivor.api("GET", "/api/v1/cluster")).body as { self: string; gateways: Array<{ gateway_id: string; runner: string }> }
    expect(cluster.gateways.find((g) => g.gateway_id === gateway.body.id)?.runner).toBe(cluster.self)
  })

  it("a hung owner (SIGSTOP: its sessions stay open) is fenced once its heartbeat is older than the lock expiry, and the survivor serves", async () => {
    services.push(await startService(await env()), await startService(await env()))
    const [a, b] = services.slice(-2) as [ServiceProcess, ServiceProcess]
    const gateway = await a.api("POST", "/api/v1/gateways", { name: "Hung", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/hung" })
    expect(gateway.status).toBe(201)
    const board = await a.api("POST", "/api/v1/boards", { name: "Hung", gateway_id: gateway.body.id })
    const created = await a.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: "Hu", board_id: board.body.id })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const token = readAuthToken(simulator.state.files.get(created.body.gateway_agent_id)?.get("AGENTS.md") ?? "")!
    const view = (await a.api("GET", "/api/v1/cluster")).body as { self: string; gateways: Array<{ gateway_id: string; runner: string }> }
    const owner = view.gateways.find((g) => g.gateway_id === gateway.body.id)!.runner
    const [victim, survivor] = owner === view.self ? [a, b] : [b, a]
    // The hung process: the one listening on the victim's HTTP port.
    const port = new URL(victim.url).port
    const pid = Number(/pid=(\d+)/.exec(execFileSync("ss", ["-Hltnp", `sport = :${port}`]).toString())?.[1])
    expect(pid).toBeGreaterThan(0)
    process.kill(pid, "SIGSTOP")
    try {
      const stopped = Date.now()
      const seen = new Set<number>()
      for (;;) {
        const started = Date.now()
        const beat = await heartbeat(survivor, token)
        expect(Date.now() - started).toBeLessThan(15_000)
        seen.add(beat.status)
        if (beat.status === 503) expect(beat.retryAfter).not.toBeNull()
        if (beat.status === 200) break
        expect(Date.now() - stopped).toBeLessThan(LOCK_EXPIRATION_MS + 30_000)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      console.log(`[measure] takeover from a hung owner: survivor answered 200 ${Date.now() - stopped} ms after SIGSTOP (statuses seen: ${[...seen].join(", ")})`)
      expect([...seen].every((status) => status === 200 || status === 503)).toBe(true)
    } finally {
      process.kill(pid, "SIGCONT")
    }
  })
})
