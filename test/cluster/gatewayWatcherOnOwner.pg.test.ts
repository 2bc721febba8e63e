import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { poll } from "../support/cluster/poll.ts"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** Watchers on, probing every half second, so a watcher on an old address would show at once. */
const config = { livenessWatchers: true, livenessProbeMs: 500, checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 }

// A gateway's liveness watcher runs on its owner; any instance reads it, and a new address or
// token restarts it there (docs/architecture.md §11, docs/operations.md §8).
describe("a gateway's watcher, from any runner (two in-process runners, simulated gateways)", () => {
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
})
