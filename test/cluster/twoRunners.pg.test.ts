import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

// Two runners of one cluster in this process, on one database, with one simulated gateway: any
// instance serves any agent, the gateway has one owner and one socket (docs/architecture.md "Cluster").
describe("two runners on one database (in-process services, simulated gateway)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let simulator: GatewaySimulator
  let a: InProcessService
  let b: InProcessService
  let gatewayId: string
  let boardId: string
  const config = { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 }

  const tokenOf = (gatewayAgentId: string) => readAuthToken(simulator.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")
  const heartbeat = async (service: InProcessService, token: string) => {
    const response = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": token }, body: "{}" })
    return { status: response.status, body: (await response.json()) as { id: string; state: string; version: number } }
  }
  const holdsSocket = async (service: InProcessService) => (await service.runtime.runPromise(Effect.flatMap(GatewayClient, (client) => client.connected))).includes(gatewayId)
  const hosts = (service: InProcessService) => service.runtime.runPromise(Effect.map(LocalAgents, (local) => local.hosts(gatewayId)))
  const owns = (service: InProcessService) => service.runtime.runPromise(Effect.map(GatewayOwnership, (ownership) => ownership.owns(gatewayId)))
  const hasActor = async (service: InProcessService, agentId: string) => (await service.agents()).snapshot(agentId) !== undefined
  const ownerOf = async () => ((await a.api("GET", "/api/v1/cluster")).body.gateways as Array<{ gateway_id: string; runner: string }>).find((g) => g.gateway_id === gatewayId)?.runner

  /** Until both runners' sets of shards stay the same over 3 s (a takeover makes an owner read its per-gateway work anyway). */
  const shardsSettled = async () => {
    const shardKeys = () => Promise.all([a, b].map((service) => service.runtime.runPromise(Effect.map(GatewayOwnership, (ownership) => ownership.ownedShardsKey()))))
    for (let before = await shardKeys(); ; ) {
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      const now = await shardKeys()
      if (now.every((key, i) => key === before[i])) return
      before = now
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    // Started at the same moment on an empty database: migrations and the engine's tables are serialised.
    ;[a, b] = await Promise.all([startInProcessService(db.url, config), startInProcessService(db.url, config)])
    const gateway = await a.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201)
    gatewayId = gateway.body.id
    boardId = (await b.api("POST", "/api/v1/boards", { name: "Two", gateway_id: gatewayId })).body.id
  })

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("both instances answer the same GET /api/v1/cluster: two healthy runners, all shards assigned, one owner for the gateway", async () => {
    // Each instance's view follows the engine's assignment refresh (1 s) and a shared runner read
    // (under 0.9 s old, docs/operations.md §7.1): the two agree once both have seen the join. The
    // gateway may then still be moving to its new owner: the cluster has settled once that owner
    // hosts it and the other runner neither owns it nor holds its socket (the owner opens one on
    // its first gateway call), so the tests after this one do not race a handover.
    let views = await Promise.all([a.api("GET", "/api/v1/cluster"), b.api("GET", "/api/v1/cluster")])
    const agreeing = async () => {
      views = await Promise.all([a.api("GET", "/api/v1/cluster"), b.api("GET", "/api/v1/cluster")])
      if (views[0].body.runners.length !== 2 || JSON.stringify(views[0].body.runners) !== JSON.stringify(views[1].body.runners)) return false
      const owner = await ownerOf()
      const [ownerService, other] = owner === views[0].body.self ? [a, b] : [b, a]
      const state = { owner, hosts: await hosts(ownerService), otherOwns: await owns(other), otherSocket: await holdsSocket(other) }
      last = JSON.stringify(state)
      return owner !== undefined && state.hosts && !state.otherOwns && !state.otherSocket
    }
    let last = ""
    try {
      await expect.poll(agreeing, { timeout: 10_000 }).toBe(true)
    } catch (error) {
      throw new Error(`the cluster did not settle: ${last}`, { cause: error })
    }
    const [viewA, viewB] = views
    expect(viewA.status).toBe(200)
    expect(viewA.body.self).not.toBe(viewB.body.self)
    expect(viewA.body.runners).toEqual(viewB.body.runners)
    expect(viewA.body.gateways).toEqual(viewB.body.gateways)
    expect(viewA.body.runners.map((runner: { address: string }) => runner.address).sort()).toEqual([viewA.body.self, viewB.body.self].sort())
    expect(viewA.body.runners.every((runner: { healthy: boolean }) => runner.healthy)).toBe(true)
    expect(viewA.body.runners.reduce((sum: number, runner: { shards: number }) => sum + runner.shards, 0)).toBe(300)
    expect([viewA.body.self, viewB.body.self]).toContain(await ownerOf())
  })

  it("an agent created through either instance has one actor, on the owner, and answers heartbeats sent through both", async () => {
    for (const [via, name] of [[a, "Ada"], [b, "Bea"]] as const) {
      const created = await via.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name, board_id: boardId })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      expect(created.body.state).toBe("provisioning.awaiting")
      const agentId = created.body.id as string
      expect([await hasActor(a, agentId), await hasActor(b, agentId)].filter(Boolean)).toHaveLength(1)
      const token = tokenOf(created.body.gateway_agent_id)!
      const first = await heartbeat(a, token)
      expect(first.status).toBe(200)
      expect(first.body).toMatchObject({ id: agentId, state: "online" })
      const second = await heartbeat(b, token)
      expect(second.status).toBe(200)
      expect(second.body.version).toBeGreaterThan(first.body.version)
      // wait_for through the instance that does not own it answers as it does on the owner.
      const waited = await (via === a ? b : a).api("GET", `/api/v1/agents/${agentId}?wait_for=online&timeout_ms=5000`)
      expect(waited.body.state).toBe("online")
    }
    // Each agent was woken once on the gateway.
    expect(simulator.countOf("agents.create")).toBe(3)
  })

  it("the gateway has one socket in the cluster: only its owner holds one", async () => {
    const holders = [await holdsSocket(a), await holdsSocket(b)]
    expect(holders.filter(Boolean)).toHaveLength(1)
    const owner = await ownerOf()
    const selfA = (await a.api("GET", "/api/v1/cluster")).body.self
    expect(holders[0]).toBe(owner === selfA)
  })

  it("a gateway query through the instance that does not own it runs on the owner's socket", async () => {
    const owner = await ownerOf()
    const nonOwner = (await a.api("GET", "/api/v1/cluster")).body.self === owner ? b : a
    const sessions = await nonOwner.api("GET", `/api/v1/gateways/${gatewayId}/sessions`)
    expect(sessions.status, JSON.stringify(sessions.body)).toBe(200)
    expect(await holdsSocket(nonOwner)).toBe(false)
  })

  it("a template sync started through the instance that does not own the gateway starts on the owner at once (a nudge, not its 30 s read)", async () => {
    await shardsSettled()
    const owner = await ownerOf()
    const nonOwner = (await a.api("GET", "/api/v1/cluster")).body.self === owner ? b : a
    expect(await owns(nonOwner)).toBe(false)
    const queued = await nonOwner.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync?include_main=false`)
    expect(queued.status, JSON.stringify(queued.body)).toBe(202)
    const jobPath = `/api/v1/gateways/${gatewayId}/templates/sync/${queued.body.job_id}`
    await expect.poll(async () => (await nonOwner.api("GET", jobPath)).body.status, { timeout: 2_500, interval: 50 }).not.toBe("queued")
    await expect.poll(async () => (await nonOwner.api("GET", jobPath)).body.status, { timeout: 30_000, interval: 100 }).toBe("done")
  })

  it("a gateway deleted through the instance that does not own it is gone within seconds (its owner's sweep is nudged, not its 60 s read)", async () => {
    await shardsSettled()
    const created = await a.api("POST", "/api/v1/gateways", { name: "Sim to delete", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/deleted" })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const id: string = created.body.id
    const selfA = (await a.api("GET", "/api/v1/cluster")).body.self
    const ownerOfNew = ((await a.api("GET", "/api/v1/cluster")).body.gateways as Array<{ gateway_id: string; runner: string }>).find((g) => g.gateway_id === id)?.runner
    const nonOwner = ownerOfNew === selfA ? b : a
    const removed = await nonOwner.api("DELETE", `/api/v1/gateways/${id}`)
    expect([200, 202], JSON.stringify(removed.body)).toContain(removed.status)
    await expect.poll(async () => (await nonOwner.api("GET", `/api/v1/gateways/${id}`)).status, { timeout: 10_000, interval: 100 }).toBe(404)
  })

  it("when the owner stops, the other instance takes the gateway over within 5 s and serves its agents", async () => {
    const created = await a.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: "Cy", board_id: boardId })
    expect(created.status).toBe(201)
    const token = tokenOf(created.body.gateway_agent_id)!
    const selfA = (await a.api("GET", "/api/v1/cluster")).body.self
    const [owner, survivor] = (await ownerOf()) === selfA ? [a, b] : [b, a]
    const stopped = Date.now()
    await owner.stop()
    await expect.poll(async () => (await heartbeat(survivor, token)).status, { timeout: 5_000, interval: 100 }).toBe(200)
    console.log(`[measure] graceful handover: heartbeat answered by the survivor ${Date.now() - stopped} ms after the owner began stopping`)
    expect(await hasActor(survivor, created.body.id)).toBe(true)
    expect((await survivor.api("GET", `/api/v1/gateways/${gatewayId}/sessions`)).status).toBe(200)
    expect(await holdsSocket(survivor)).toBe(true)
    if (owner === a) a = await startInProcessService(db.url, config)
    else b = await startInProcessService(db.url, config)
  })
})
