import { Exit } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { OWNER_TIMEOUT_MS } from "../../src/cluster/RoutedAgentSystem.ts"
import { PERSIST_TIMEOUT_MS } from "../../src/agents/LocalAgents.ts"
import { poll } from "../support/cluster/poll.ts"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

// An owner slowed by the database answers for itself: the runner that routed the event gets the
// owner's AgentPersistTimeout (accepted, not saved yet), not "owner unavailable"
// (docs/architecture.md §11, docs/operations.md §7.3).
describe("a routed event whose snapshot the database is slow to take (two in-process runners)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let simulator: GatewaySimulator
  let a: InProcessService
  let b: InProcessService

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    ;[a, b] = await Promise.all([startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 }), startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 })])
    const joined = await poll(async () => (await a.api("GET", "/api/v1/cluster")).body.runners.length as number, (runners) => runners === 2, 20_000)
    if (joined.acceptedAt === undefined) throw new Error("the two runners did not join one cluster")
  })

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("answers AgentPersistTimeout from the owner, within the owner timeout", async () => {
    expect(OWNER_TIMEOUT_MS).toBeGreaterThan(PERSIST_TIMEOUT_MS)
    const { gatewayId, boardId } = await registerGatewayAndBoard(a, simulator, "Slow")
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
