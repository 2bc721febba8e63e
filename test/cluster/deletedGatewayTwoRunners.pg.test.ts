import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { reapGateway } from "../../src/fleet/reapGateway.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { GatewayLiveness } from "../../src/liveness/GatewayLiveness.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { expectSimulatorLetGo } from "./expectSimulatorLetGo.ts"

const PROBE_MS = 100
const POLL = { timeout: 30_000, interval: 50 }

// docs/architecture.md §11: whichever runner removes a deleted gateway's row, its owner lets the
// gateway go: no watcher, no socket to its old URL, no liveness status, no actor of its agents.
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
  const actorsOf = async (service: InProcessService, agentIds: ReadonlyArray<string>) => {
    const local = await service.runtime.runPromise(LocalAgents)
    return agentIds.filter((agentId) => local.gatewayOf(agentId) !== undefined)
  }

  /** A gateway on its own simulator with a board agent, watched by its owner; which runner owns it, and which does not. */
  const watchedGateway = async (simulator: GatewaySimulator, name: string) => {
    const gateway = await a.api("POST", "/api/v1/gateways", { name, url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201)
    const gatewayId = gateway.body.id as string
    const mainAgentId = gateway.body.main_agent_id as string
    await expect.poll(async () => (await a.api("GET", `/api/v1/agents/${mainAgentId}`)).body.state, POLL).toBe("provisioning.awaiting")
    const board = await a.api("POST", "/api/v1/boards", { name, gateway_id: gatewayId })
    expect(board.status).toBe(201)
    const agent = await a.api("POST", "/api/v1/agents", { name: `${name} worker`, board_id: board.body.id })
    expect(agent.status, JSON.stringify(agent.body)).toBe(201)
    const agentIds = [mainAgentId, agent.body.id as string]
    await expect.poll(async () => (await owns(a, gatewayId)) !== (await owns(b, gatewayId)), POLL).toBe(true)
    const [owner, other] = (await owns(a, gatewayId)) ? [a, b] : [b, a]
    await expect.poll(async () => (await status(owner, gatewayId))?.reachable, POLL).toBe(true)
    expect(await actorsOf(owner, agentIds)).toEqual(agentIds)
    return { gatewayId, agentIds, owner, other }
  }

  /** Nothing of the gateway on either runner, and its simulator hears nothing more over twenty probe periods. */
  const letGo = async (simulator: GatewaySimulator, gateway: Awaited<ReturnType<typeof watchedGateway>>) => {
    const { gatewayId, agentIds, owner, other } = gateway
    await expect.poll(() => actorsOf(owner, agentIds), POLL).toEqual([])
    expect(await actorsOf(other, agentIds)).toEqual([])
    await expectSimulatorLetGo(simulator, PROBE_MS, POLL)
    expect(await holdsSocket(owner, gatewayId)).toBe(false)
    expect(await holdsSocket(other, gatewayId)).toBe(false)
    expect(await owner.runtime.runPromise(Effect.map(LocalAgents, (local) => local.hosts(gatewayId)))).toBe(false)
    expect(await status(owner, gatewayId)).toBeUndefined()
  }

  it("a delete asked on the other runner: the gateway's agents are removed and its owner lets it go", async () => {
    const simulator = await startGatewaySimulator()
    try {
      const gateway = await watchedGateway(simulator, "AskedElsewhere")
      expect((await gateway.other.api("DELETE", `/api/v1/gateways/${gateway.gatewayId}`)).status).toBe(202)
      await expect.poll(async () => (await gateway.other.api("GET", `/api/v1/gateways/${gateway.gatewayId}`)).status, POLL).toBe(404)
      await letGo(simulator, gateway)
    } finally {
      await simulator.stop()
    }
  }, 90_000)

  it("the row removed by the other runner's reap while the owner still runs its agents' actors: the owner stops them and lets the gateway go", async () => {
    const simulator = await startGatewaySimulator()
    try {
      const gateway = await watchedGateway(simulator, "ReapedElsewhere")
      // Its agents' rows gone behind their actors' backs, the other runner's reap step removes the gateway's row.
      await gateway.other.runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from agents where gateway_id = ${gateway.gatewayId}`))
      expect(await gateway.other.runtime.runPromise(reapGateway(gateway.gatewayId, { retryFailed: false, force: false }))).toBe(0)
      await letGo(simulator, gateway)
    } finally {
      await simulator.stop()
    }
  }, 90_000)
})
