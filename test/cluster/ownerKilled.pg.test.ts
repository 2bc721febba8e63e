import { execFileSync } from "node:child_process"
import { OWNER_TIMEOUT_MS } from "../../src/cluster/RoutedAgentSystem.ts"
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
  /**
   * Registers the simulator as gateway `names.gateway` through `a`, then a board and an agent
   * through `via`, and waits until the agent awaits its check-in; its ids and its token.
   */
  const awaitingAgent = async (a: ServiceProcess, via: ServiceProcess, names: { gateway: string; workspaceRoot: string; board: string; agent: string }) => {
    const gateway = await a.api("POST", "/api/v1/gateways", { name: names.gateway, url: simulator.url, token: simulator.token, workspace_root: names.workspaceRoot })
    expect(gateway.status).toBe(201)
    const board = await via.api("POST", "/api/v1/boards", { name: names.board, gateway_id: gateway.body.id })
    const created = await via.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: names.agent, board_id: board.body.id })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const token = readAuthToken(simulator.state.files.get(created.body.gateway_agent_id)?.get("AGENTS.md") ?? "")!
    return { gatewayId: gateway.body.id as string, agentId: created.body.id as string, token }
  }
  /** `[owner, other]` of `gatewayId`, as `a`'s cluster view says. */
  const ownerFirst = async (a: ServiceProcess, b: ServiceProcess, gatewayId: string): Promise<[ServiceProcess, ServiceProcess]> => {
    const view = (await a.api("GET", "/api/v1/cluster")).body as { self: string; gateways: Array<{ gateway_id: string; runner: string }> }
    const owner = view.gateways.find((g) => g.gateway_id === gatewayId)!.runner
    return owner === view.self ? [a, b] : [b, a]
  }
  /**
   * Heartbeats `survivor` every 200 ms until it answers 200; each answer comes within the owner timeout (plus 5 s), a 503
   * carries Retry-After, and the 200 comes within `boundMs` of `since` (epoch ms). The statuses seen.
   */
  const heartbeatUntilServed = async (survivor: ServiceProcess, token: string, since: number, boundMs: number) => {
    const seen = new Set<number>()
    for (;;) {
      const started = Date.now()
      const beat = await heartbeat(survivor, token)
      expect(Date.now() - started).toBeLessThan(OWNER_TIMEOUT_MS + 5_000)
      seen.add(beat.status)
      if (beat.status === 503) expect(beat.retryAfter).not.toBeNull()
      if (beat.status === 200) return seen
      expect(Date.now() - since).toBeLessThan(boundMs)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
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
    const { gatewayId, agentId, token } = await awaitingAgent(a, b, { gateway: "Sim", workspaceRoot: "/srv/gw/workspaces", board: "Kill", agent: "Ada" })
    expect((await heartbeat(a, token)).status).toBe(200)
    const [victim, survivor] = await ownerFirst(a, b, gatewayId)

    await victim.kill("SIGKILL")
    const killed = Date.now()
    const seen = await heartbeatUntilServed(survivor, token, killed, LOCK_EXPIRATION_MS + 15_000)
    console.log(`[measure] takeover after SIGKILL: survivor answered 200 ${Date.now() - killed} ms after the kill (statuses seen: ${[...seen].join(", ")})`)
    expect([...seen].every((status) => status === 200 || status === 503)).toBe(true)
    // The offline deadline (4 s after the last heartbeat) fires on the new owner.
    await expect.poll(async () => (await survivor.api("GET", `/api/v1/agents/${agentId}`)).body.state, { timeout: 15_000, interval: 250 }).toBe("offline")
    const cluster = (await survivor.api("GET", "/api/v1/cluster")).body as { self: string; gateways: Array<{ gateway_id: string; runner: string }> }
    expect(cluster.gateways.find((g) => g.gateway_id === gatewayId)?.runner).toBe(cluster.self)
  })

  it("a hung owner (SIGSTOP: its sessions stay open) is fenced once its heartbeat is older than the lock expiry, and the survivor serves", async () => {
    services.push(await startService(await env()), await startService(await env()))
    const [a, b] = services.slice(-2) as [ServiceProcess, ServiceProcess]
    const { gatewayId, token } = await awaitingAgent(a, a, { gateway: "Hung", workspaceRoot: "/srv/gw/hung", board: "Hung", agent: "Hu" })
    const [victim, survivor] = await ownerFirst(a, b, gatewayId)
    // The hung process: the one listening on the victim's HTTP port.
    const port = new URL(victim.url).port
    const pid = Number(/pid=(\d+)/.exec(execFileSync("ss", ["-Hltnp", `sport = :${port}`]).toString())?.[1])
    expect(pid).toBeGreaterThan(0)
    process.kill(pid, "SIGSTOP")
    try {
      const stopped = Date.now()
      const seen = await heartbeatUntilServed(survivor, token, stopped, LOCK_EXPIRATION_MS + 30_000)
      console.log(`[measure] takeover from a hung owner: survivor answered 200 ${Date.now() - stopped} ms after SIGSTOP (statuses seen: ${[...seen].join(", ")})`)
      expect([...seen].every((status) => status === 200 || status === 503)).toBe(true)
    } finally {
      process.kill(pid, "SIGCONT")
    }
  })
})
