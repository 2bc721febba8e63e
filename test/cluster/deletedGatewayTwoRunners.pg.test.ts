import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { reapGateway } from "../../src/fleet/reapGateway.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { GatewayLiveness } from "../../src/liveness/GatewayLiveness.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

const PROBE_MS = 100
const POLL = { timeout: 30_000, interval: 50 }

// docs/architecture.md §11: whichever runner removes a deleted gateway's row, its owner lets the
// gateway go: no watcher, no socket to its old URL, no liveness status.
describe("a gateway deleted through the runner that does not own it (two in-process runners, simulator)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let a: InProcessService
  let b: InProcessService
  const config = { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, livenessWatchers: true, livenessProbeMs: PROBE_MS, reconcileMs: 60_000 }

  beforeAll(async () => {
    db = await createTestDatabase()
    ;[a, b] = await Promise.all([startInProcessService(db.url, config), startInProcessService(db.url, config)])
  }, 60_000)

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await db?.drop()
  })

  const owns = (service: InProcessService, gatewayId: string) => service.runtime.runPromise(Effect.map(GatewayOwnership, (ownership) => ownership.owns(gatewayId)))
  const status = (service: InProcessService, gatewayId: string) => service.runtime.runPromise(Effect.flatMap(GatewayLiveness, (registry) => registry.get(gatewayId)))
  const holdsSocket = async (service: InProcessService, gatewayId: string) =>
    (await service.runtime.runPromise(Effect.flatMap(GatewayClient, (client) => client.connected))).includes(gatewayId)

  /** A gateway on its own simulator, watched by its owner; which runner owns it, and which does not. */
  const watchedGateway = async (simulator: GatewaySimulator, name: string) => {
    const gateway = await a.api("POST", "/api/v1/gateways", { name, url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201)
    const gatewayId = gateway.body.id as string
    await expect.poll(async () => (await a.api("GET", `/api/v1/agents/${gateway.body.main_agent_id}`)).body.state, POLL).toBe("provisioning.awaiting")
    await expect.poll(async () => (await owns(a, gatewayId)) !== (await owns(b, gatewayId)), POLL).toBe(true)
    const [owner, other] = (await owns(a, gatewayId)) ? [a, b] : [b, a]
    await expect.poll(async () => (await status(owner, gatewayId))?.reachable, POLL).toBe(true)
    return { gatewayId, owner, other }
  }

  /** Nothing of the gateway on either runner, and its simulator hears nothing more over twenty probe periods. */
  const letGo = async (simulator: GatewaySimulator, gatewayId: string, owner: InProcessService, other: InProcessService) => {
    await expect.poll(() => status(owner, gatewayId), POLL).toBeUndefined()
    await expect.poll(() => simulator.openSockets, POLL).toBe(0)
    expect(await holdsSocket(owner, gatewayId)).toBe(false)
    expect(await holdsSocket(other, gatewayId)).toBe(false)
    const calls = simulator.calls.length
    const opened = simulator.connectionsOpened
    await new Promise((resolve) => setTimeout(resolve, 20 * PROBE_MS))
    expect(simulator.calls.slice(calls).map((call) => call.method)).toEqual([])
    expect(simulator.connectionsOpened).toBe(opened)
  }

  it("a delete asked on the other runner: its owner removes the row and lets the gateway go", async () => {
    const simulator = await startGatewaySimulator()
    try {
      const { gatewayId, owner, other } = await watchedGateway(simulator, "AskedElsewhere")
      expect((await other.api("DELETE", `/api/v1/gateways/${gatewayId}`)).status).toBe(202)
      await expect.poll(async () => (await other.api("GET", `/api/v1/gateways/${gatewayId}`)).status, POLL).toBe(404)
      await letGo(simulator, gatewayId, owner, other)
    } finally {
      await simulator.stop()
    }
  }, 90_000)

  it("the row removed by the other runner's reap: the owner lets the gateway go", async () => {
    const simulator = await startGatewaySimulator()
    try {
      const { gatewayId, owner, other } = await watchedGateway(simulator, "ReapedElsewhere")
      // Its agents gone (as after their deletes), the other runner's reap step removes the row.
      await other.runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from agents where gateway_id = ${gatewayId}`))
      expect(await other.runtime.runPromise(reapGateway(gatewayId, { retryFailed: false, force: false }))).toBe(0)
      await letGo(simulator, gatewayId, owner, other)
    } finally {
      await simulator.stop()
    }
  }, 90_000)
})
