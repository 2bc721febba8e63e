import { Exit } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PERSIST_TIMEOUT_MS } from "../../src/agents/LocalAgents.ts"
import { OWNER_TIMEOUT_MS } from "../../src/cluster/RoutedAgentSystem.ts"
import { poll } from "../support/cluster/poll.ts"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** Watchers on, probing every half second, so a watcher on an old address would show at once. */
const config = { livenessWatchers: true, livenessProbeMs: 500, checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 }

// What a gateway's owner answers for any runner: its liveness watcher's status (and a new address
// or token restarts the watcher there), and its own typed errors, such as a slow database's
// AgentPersistTimeout, before the routing runner gives up on it (docs/architecture.md §11,
// docs/operations.md §7.3, §8).
describe("the gateway's owner answers for any runner (two in-process runners, simulated gateways)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let a: InProcessService
  let b: InProcessService
  const simulators: Array<GatewaySimulator> = []

  beforeAll(async () => {
    db = await createTestDatabase()
    ;[a, b] = await Promise.all([startInProcessService(db.url, config), startInProcessService(db.url, config)])
    const joined = await poll(async () => (await a.api("GET", "/api/v1/cluster")).body.runners.length as number, (runners) => runners === 2, 20_000)
    if (joined.acceptedAt === undefined) throw new Error("the two runners did not join one cluster")
  })

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    for (const simulator of simulators) await simulator.stop()
    await db?.drop()
  })

  const simulator = async () => {
    const started = await startGatewaySimulator()
    simulators.push(started)
    return started
  }

  /** A gateway registered on `gateway`, with its owner and the other instance. */
  const ownedGateway = async (gateway: GatewaySimulator, name: string) => {
    const { gatewayId } = await registerGatewayAndBoard(a, gateway, name)
    const runnerOf = async () => ((await a.api("GET", "/api/v1/cluster")).body.gateways as Array<{ gateway_id: string; runner: string }>).find((g) => g.gateway_id === gatewayId)?.runner
    const selfA = (await a.api("GET", "/api/v1/cluster")).body.self as string
    const owner = (await runnerOf()) === selfA ? a : b
    return { gatewayId, owner, other: owner === a ? b : a }
  }

  it("answers GET /gateways/{id}/liveness on the instance that does not own the gateway, with the owner's status", async () => {
    const gateway = await simulator()
    const { gatewayId, owner, other } = await ownedGateway(gateway, "Watched")
    await expect.poll(async () => (await owner.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, { timeout: 20_000 }).toBe(true)
    const remote = await other.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)
    expect(remote.status).toBe(200)
    expect(remote.body).toMatchObject({ gateway_id: gatewayId, reachable: true })
    expect((await other.api("GET", "/api/v1/gateways/00000000-0000-4000-8000-000000000000/liveness")).status).toBe(404)
  })

  it("a PATCH of the gateway's url through either instance restarts its watcher on the owner: it watches the new address, the old one hears nothing more", async () => {
    const [before, after] = [await simulator(), await simulator()]
    const { gatewayId, owner, other } = await ownedGateway(before, "Moving")
    await expect.poll(async () => (await owner.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, { timeout: 20_000 }).toBe(true)
    // The gateway's main agent has finished its apply (woken, awaiting its check-in): an apply still
    // in flight holds the old target by design, and this case is about the watcher.
    const applying = async () =>
      ((await owner.api("GET", `/api/v1/agents?gateway_id=${gatewayId}`)).body.items as Array<{ state: string }>).filter((agent) => agent.state !== "provisioning.awaiting").length
    await expect.poll(applying, { timeout: 20_000 }).toBe(0)
    const patched = await other.api("PATCH", `/api/v1/gateways/${gatewayId}`, { url: after.url, token: after.token })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    const opened = before.connectionsOpened
    // The restarted watcher subscribes on the new address as it starts.
    await expect.poll(() => after.countOf("sessions.subscribe"), { timeout: 20_000 }).toBeGreaterThan(0)
    // Several probe rounds later, nothing has dialled the old address again.
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    expect(before.connectionsOpened).toBe(opened)
    expect((await other.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body).toMatchObject({ gateway_id: gatewayId, reachable: true })
  })

  it("an event routed to an owner slowed by the database answers the owner's AgentPersistTimeout (accepted, not saved yet), within the owner timeout", async () => {
    expect(OWNER_TIMEOUT_MS).toBeGreaterThan(PERSIST_TIMEOUT_MS)
    const { gatewayId, boardId } = await registerGatewayAndBoard(a, await simulator(), "Slow")
    const created = await a.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: "Sloth", board_id: boardId })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const agentId = created.body.id as string
    const view = (await a.api("GET", "/api/v1/cluster")).body as { self: string; gateways: Array<{ gateway_id: string; runner: string }> }
    const other = view.gateways.find((g) => g.gateway_id === gatewayId)?.runner === view.self ? b : a
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    try {
      // The agent's row is held: its next snapshot cannot be saved for now.
      await holder.query("begin")
      await holder.query("select 1 from agents where id = $1 for update", [agentId])
      const system = await other.agents()
      const started = Date.now()
      const exit = await other.runtime.runPromiseExit(system.send(agentId, { type: "agent.heartbeat", at: Date.now() }))
      const ms = Date.now() - started
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : exit).toMatchObject({ _tag: "AgentPersistTimeout", agentId })
      expect(ms).toBeLessThan(OWNER_TIMEOUT_MS)
      console.log(`[measure] routed event, row held: AgentPersistTimeout after ${ms} ms (persist timeout ${PERSIST_TIMEOUT_MS} ms, owner timeout ${OWNER_TIMEOUT_MS} ms)`)
    } finally {
      await holder.query("rollback")
      await holder.end()
    }
  }, 60_000)
})
