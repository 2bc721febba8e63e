import { Effect } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

const POLL = { timeout: 15_000, interval: 50 }

type Moving = {
  service: Awaited<ReturnType<typeof startInProcessService>>
  before: GatewaySimulator
  after: GatewaySimulator
  pool: pg.Pool
  gatewayId: string
}

/**
 * Runs `body` against a watching service (probes every 100 ms) with a gateway "Moving" created
 * on the `before` simulator, an `after` simulator with the same token to move it to, and a pool
 * to change the stored url behind the service's back; stops and drops all of them after.
 */
const withMovingGateway = async (body: (moving: Moving) => Promise<void>) => {
  const db = await createTestDatabase()
  const before = await startGatewaySimulator()
  const after = await startGatewaySimulator({ token: before.token })
  const pool = new pg.Pool({ connectionString: db.url, max: 1 })
  const service = await startInProcessService(db.url, { livenessWatchers: true, livenessProbeMs: 100, reconcileMs: 200, gatewayLostAfterMs: 60_000, checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 })
  try {
    const created = await service.api("POST", "/api/v1/gateways", { name: "Moving", url: before.url, token: before.token, workspace_root: "/srv/moving" })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    await body({ service, before, after, pool, gatewayId: created.body.id as string })
  } finally {
    await service.stop()
    await pool.end()
    await before.stop()
    await after.stop()
    await db.drop()
  }
}

/**
 * docs/operations.md §8: a PATCH of a gateway's url restarts its watcher on the owner; when that
 * restart is missed (the owner did not answer), the watcher must still follow the stored target
 * at its next reconnect rather than keep reopening the old address. The missed restart is played
 * by changing the stored url behind the service's back.
 */
describe("the liveness watcher after its gateway's url changed without a restart (in-process service, two simulators)", () => {
  it("reconnects to the stored url once the old socket drops, and leaves the old address alone", async () => {
    await withMovingGateway(async ({ service, before, after, pool, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      expect(after.connectionsOpened).toBe(0)

      await pool.query("update gateways set url = $1 where id = $2", [after.url, gatewayId])
      before.closeAll(1012, "restart")

      await expect.poll(() => after.openSockets, POLL).toBe(1)
      // The watcher's own probes run every 100 ms: a second of them must not reopen the old address.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect(before.openSockets).toBe(0)
      expect(after.openSockets).toBe(1)
      expect((await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable).toBe(true)
    })
  }, 60_000)

  it("follows a forget whose restart was missed to the stored url, without reopening the old address or marking the gateway lost", async () => {
    await withMovingGateway(async ({ service, before, after, pool, gatewayId }) => {
      const liveness = async (gatewayId: string) => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body
      const probes = async () => (await service.gatewayStats()).calls["sessions.list"] ?? 0
      await expect.poll(async () => (await liveness(gatewayId))?.reachable, POLL).toBe(true)
      const reachableSince = (await liveness(gatewayId)).since
      const openedBefore = before.connectionsOpened

      // A PATCH of the url as the owner sees it when its watcher restart was missed: the row
      // changed, the socket forgotten (its close dropped), the watcher left running.
      await pool.query("update gateways set url = $1 where id = $2", [after.url, gatewayId])
      await service.runtime.runPromise(Effect.flatMap(GatewayClient, (client) => client.forget(gatewayId)))

      await expect.poll(() => after.openSockets, POLL).toBe(1)
      // Ten more probes (100 ms apart) on the new socket: none reopened the old address.
      const probed = await probes()
      await expect.poll(probes, POLL).toBeGreaterThanOrEqual(probed + 10)
      expect(before.connectionsOpened).toBe(openedBefore)
      expect(before.openSockets).toBe(0)
      expect(after.openSockets).toBe(1)
      // Never marked lost (a loss, then the regain, would have moved `since`): no gateway.connection.lost went out.
      expect(await liveness(gatewayId)).toMatchObject({ reachable: true, since: reachableSince })
    })
  }, 60_000)
})
