import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Either, Option } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentExternalEvent } from "../../machines/agent/agentTypes.ts"
import { MAX_ACTOR_RESTARTS } from "../../src/agents/actorSupervisor.ts"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { AgentRepo } from "../../src/store/AgentRepo.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { createTestDatabase, MACHINE_PG } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

const POLL = { timeout: 15_000, interval: 20 }

/** An event whose guard throws (`isNewIdentity` reads `identity`): the transition fails, as a bug in the machine would. */
const throwing = { type: "agent.convert", at: Date.now(), identity: null } as unknown as AgentExternalEvent

/** The outcome of sending `event` to the agent's actor on this runner. */
const sendLocally = (service: InProcessService, agentId: string, event: AgentExternalEvent) =>
  service.runtime.runPromise(Effect.flatMap(LocalAgents, (local) => Effect.either(local.send(agentId, event))))
const running = (service: InProcessService, agentId: string) => service.runtime.runPromise(Effect.map(LocalAgents, (local) => local.snapshot(agentId) !== undefined))

/**
 * Holds the agent's row locked (a transaction of its own) until `release` is called: its
 * snapshot writes wait meanwhile, as on a slow database.
 */
const lockRow = async (service: InProcessService, agentId: string) => {
  const held = Effect.runSync(Deferred.make<void>())
  const release = Effect.runSync(Deferred.make<void>())
  const done = service.runtime.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql.withTransaction(sql`select id from agents where id = ${agentId} for update`.pipe(Effect.zipRight(Deferred.succeed(held, undefined)), Effect.zipRight(Deferred.await(release))))
    )
  )
  await Effect.runPromise(Deferred.await(held))
  return async () => {
    await Effect.runPromise(Deferred.succeed(release, undefined))
    await done
  }
}
/** Whether `promise` settles within `ms` (it is let run that long before the test goes on). */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))])

// docs/architecture.md §6.8: a failed agent actor is restarted from its stored snapshot, a few
// times a minute; past that it answers a typed error at once, instead of dropping events.
describe("an agent actor whose transition throws (in-process service, simulator)", () => {
  it("is restarted from its stored snapshot; past its restarts it answers AgentActorFailed (HTTP 500) at once", async () => {
    await withSimulatedStack({ boardName: "Failing" }, async ({ service, simulator, gatewayId }) => {
      const main = await service.runtime.runPromise(Effect.flatMap(AgentRepo, (agents) => agents.mainOf(gatewayId)))
      const mainId = Option.getOrThrow(main).id
      const before = (await service.api("GET", `/api/v1/agents/${mainId}`)).body

      for (let restart = 1; restart <= MAX_ACTOR_RESTARTS; restart++) {
        const failed = await sendLocally(service, mainId, throwing)
        expect(Either.isLeft(failed) && failed.left).toMatchObject({ _tag: "AgentsRestoring", reason: "restarting" })
        await expect.poll(() => running(service, mainId), POLL).toBe(true)
      }
      // Restarted from what was stored: nothing of the failed events, the same state.
      const restarted = (await service.api("GET", `/api/v1/agents/${mainId}`)).body
      expect(restarted).toMatchObject({ state: before.state, version: before.version })

      const stopped = await sendLocally(service, mainId, throwing)
      expect(Either.isLeft(stopped) && stopped.left).toMatchObject({ _tag: "AgentActorFailed", agentId: mainId, failures: MAX_ACTOR_RESTARTS + 1 })
      expect(await running(service, mainId)).toBe(false)
      const later = await sendLocally(service, mainId, { type: "agent.heartbeat", at: Date.now() })
      expect(Either.isLeft(later) && later.left._tag).toBe("AgentActorFailed")
      // A change checked on the owner is refused as a send would be: 500, not 404.
      const patch = await service.api("PATCH", `/api/v1/agents/${mainId}`, { name: "Renamed" })
      expect(patch.status, JSON.stringify(patch.body)).toBe(500)

      const token = readAuthToken(simulator.state.files.get(before.gateway_agent_id)?.get("AGENTS.md") ?? "")
      const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
      expect(beat.status).toBe(500)
      const detail = ((await beat.json()) as { detail: string }).detail
      expect(detail).toContain("stays stopped")
      // The exception's text stays in the logs.
      expect(detail).not.toContain("isNewIdentity")
      const metrics = await (await fetch(`${service.url}/metrics`)).text()
      expect(metrics).toMatch(/switchyard_agent_actor_failures_total\{outcome="restarted"\} 3/)
      expect(metrics).toMatch(/switchyard_agent_actors_failed 1/)
    })
  })

  it("a delete gives an agent stopped past its restarts a fresh start, and the delete asked again reaches it", async () => {
    await withSimulatedStack({ boardName: "Unwanted" }, async ({ service, gatewayId }) => {
      const main = await service.runtime.runPromise(Effect.flatMap(AgentRepo, (agents) => agents.mainOf(gatewayId)))
      const mainId = Option.getOrThrow(main).id
      for (let restart = 1; restart <= MAX_ACTOR_RESTARTS; restart++) {
        await sendLocally(service, mainId, throwing)
        await expect.poll(() => running(service, mainId), POLL).toBe(true)
      }
      await sendLocally(service, mainId, throwing)
      expect(await running(service, mainId)).toBe(false)

      const remove = { type: "agent.delete", at: Date.now(), force: false } as const
      const first = await sendLocally(service, mainId, remove)
      expect(Either.isLeft(first) && first.left).toMatchObject({ _tag: "AgentsRestoring", reason: "restarting" })
      await expect.poll(() => running(service, mainId), POLL).toBe(true)
      const again = await sendLocally(service, mainId, remove)
      expect(Either.isRight(again) && JSON.stringify(again.right.value)).toContain("deleting")
    })
  })

  it("a runner stopping waits for the last write of an actor stopped past its restarts before its gateway's shard goes", async () => {
    await withSimulatedStack({ boardName: "Leaving" }, async ({ service, gatewayId }) => {
      const main = await service.runtime.runPromise(Effect.flatMap(AgentRepo, (agents) => agents.mainOf(gatewayId)))
      const mainId = Option.getOrThrow(main).id
      for (let restart = 1; restart <= MAX_ACTOR_RESTARTS; restart++) {
        await sendLocally(service, mainId, throwing)
        await expect.poll(() => running(service, mainId), POLL).toBe(true)
      }
      // A connection of its own holds the row: the runner's pool closes while it stops.
      const database = await service.runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ name: string }>`select current_database() as name`))
      const url = new URL(MACHINE_PG)
      url.pathname = `/${database[0]?.name ?? ""}`
      const locker = new pg.Client({ connectionString: url.toString() })
      await locker.connect()
      try {
        await locker.query("begin")
        await locker.query("select id from agents where id = $1 for update", [mainId])
        // Accepted, its write waiting on the lock; then the actor fails past its restarts.
        const accepted = sendLocally(service, mainId, { type: "agent.heartbeat", at: Date.now() })
        const stopped = await sendLocally(service, mainId, throwing)
        expect(Either.isLeft(stopped) && stopped.left._tag).toBe("AgentActorFailed")

        const stopping = service.stop()
        const early = await settlesWithin(stopping, 1_000)
        await locker.query("commit")
        await stopping
        expect(early).toBe(false)
        expect(Either.isRight(await accepted)).toBe(true)
        const row = await locker.query<{ state: string }>("select snapshot->>'value' as state from agents where id = $1", [mainId])
        expect(row.rows[0]?.state).toBe("online")
      } finally {
        await locker.end()
      }
    })
  })

  it("a wait through the agent system goes on while the agent's actor restarts, until the agent gets there", async () => {
    await withSimulatedStack({ boardName: "Waiting" }, async ({ service, gatewayId }) => {
      const main = await service.runtime.runPromise(Effect.flatMap(AgentRepo, (agents) => agents.mainOf(gatewayId)))
      const mainId = Option.getOrThrow(main).id
      // The heartbeat's write waits on the lock, so the restart (which saves it first) does too.
      const unlock = await lockRow(service, mainId)
      const accepted = sendLocally(service, mainId, { type: "agent.heartbeat", at: Date.now() })
      const failed = await sendLocally(service, mainId, throwing)
      expect(Either.isLeft(failed) && failed.left).toMatchObject({ _tag: "AgentsRestoring", reason: "restarting" })

      const system = await service.agents()
      const waited = service.runtime.runPromise(Effect.either(system.waitFor(mainId, (snapshot) => snapshot.value === "online", 15_000)))
      // Still restarting: the wait has not given up.
      const early = await settlesWithin(waited, 500)
      await unlock()
      expect(early).toBe(false)
      const outcome = await waited
      expect(Either.isRight(outcome) && outcome.right.value).toBe("online")
      expect(Either.isRight(await accepted)).toBe(true)
    })
  })

  it("an event accepted just before the failure is saved first, and the restarted actor goes on from it", async () => {
    await withSimulatedStack({ boardName: "Accepted" }, async ({ service, gatewayId }) => {
      const main = await service.runtime.runPromise(Effect.flatMap(AgentRepo, (agents) => agents.mainOf(gatewayId)))
      const mainId = Option.getOrThrow(main).id
      expect((await service.api("GET", `/api/v1/agents/${mainId}`)).body.state).toBe("provisioning.awaiting")

      // Both reach the actor before the first one's snapshot is saved.
      const accepted = sendLocally(service, mainId, { type: "agent.heartbeat", at: Date.now() })
      const failed = await sendLocally(service, mainId, throwing)
      expect(Either.isLeft(failed) && failed.left._tag).toBe("AgentsRestoring")
      const answer = await accepted
      expect(Either.isRight(answer) && answer.right.value).toBe("online")

      await expect.poll(() => running(service, mainId), POLL).toBe(true)
      const snapshot = await service.runtime.runPromise(Effect.map(LocalAgents, (local) => local.snapshot(mainId)))
      expect(snapshot?.value).toBe("online")
      expect((await service.api("GET", `/api/v1/agents/${mainId}`)).body.state).toBe("online")
    })
  })
})

describe("an agent whose actor failed past its restarts, asked through the runner that does not own it (two in-process runners)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let simulator: GatewaySimulator
  let a: InProcessService
  let b: InProcessService
  const config = { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    ;[a, b] = await Promise.all([startInProcessService(db.url, config), startInProcessService(db.url, config)])
    // The shards settle between the two (half each) before a test picks a gateway's owner: a
    // gateway moving mid-test would be restored, running, on the other runner.
    const shards = (service: InProcessService) => service.runtime.runPromise(Effect.map(GatewayOwnership, (ownership) => [ownership.ownedShards(), ownership.shardsPerGroup] as const))
    for (const until = Date.now() + 50_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const [[onA, total], [onB]] = await Promise.all([shards(a), shards(b)])
      if (onA + onB === total && Math.abs(onA - onB) <= 1) break
      if (Date.now() > until) throw new Error(`the shards did not settle: ${onA} and ${onB} of ${total}`)
    }
  }, 90_000)

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("answers AgentActorFailed there too: HTTP 500 at once", async () => {
    const gateway = await a.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201)
    const gatewayId = gateway.body.id as string
    const mainId = gateway.body.main_agent_id as string
    await expect.poll(async () => (await a.api("GET", `/api/v1/agents/${mainId}`)).body.state, POLL).toBe("provisioning.awaiting")
    const owns = (service: InProcessService) => service.runtime.runPromise(Effect.map(GatewayOwnership, (ownership) => ownership.owns(gatewayId)))
    await expect.poll(async () => (await owns(a)) !== (await owns(b)), POLL).toBe(true)
    const [owner, other] = (await owns(a)) ? [a, b] : [b, a]
    await expect.poll(() => running(owner, mainId), POLL).toBe(true)

    for (let failure = 1; failure <= MAX_ACTOR_RESTARTS; failure++) {
      await sendLocally(owner, mainId, throwing)
      await expect.poll(() => running(owner, mainId), POLL).toBe(true)
    }
    await sendLocally(owner, mainId, throwing)

    const system = await other.agents()
    const routed = await other.runtime.runPromise(Effect.either(system.send(mainId, { type: "agent.heartbeat", at: Date.now() })))
    expect(Either.isLeft(routed) && routed.left).toMatchObject({ _tag: "AgentActorFailed", agentId: mainId, failures: MAX_ACTOR_RESTARTS + 1 })
    const gatewayAgentId = (await other.api("GET", `/api/v1/agents/${mainId}`)).body.gateway_agent_id as string
    const token = readAuthToken(simulator.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")
    const beat = await fetch(`${other.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
    expect(beat.status).toBe(500)
  }, 90_000)

  it("an event saved before the actor failed answers its snapshot through the other runner, not a 503 (a retry would apply it twice)", async () => {
    const own = await startGatewaySimulator()
    try {
      const gateway = await a.api("POST", "/api/v1/gateways", { name: "SavedFirst", url: own.url, token: own.token, workspace_root: "/srv/gw/workspaces" })
      expect(gateway.status, JSON.stringify(gateway.body)).toBe(201)
      const gatewayId = gateway.body.id as string
      const mainId = gateway.body.main_agent_id as string
      await expect.poll(async () => (await a.api("GET", `/api/v1/agents/${mainId}`)).body.state, POLL).toBe("provisioning.awaiting")
      const owns = (service: InProcessService) => service.runtime.runPromise(Effect.map(GatewayOwnership, (ownership) => ownership.owns(gatewayId)))
      await expect.poll(async () => (await owns(a)) !== (await owns(b)), POLL).toBe(true)
      const [owner, other] = (await owns(a)) ? [a, b] : [b, a]
      await expect.poll(() => running(owner, mainId), POLL).toBe(true)

      // The heartbeat reaches the owner's actor; its write waits on the lock; the actor then fails.
      const unlock = await lockRow(owner, mainId)
      const system = await other.agents()
      const routed = other.runtime.runPromise(Effect.either(system.send(mainId, { type: "agent.heartbeat", at: Date.now() })))
      await expect.poll(() => owner.runtime.runPromise(Effect.map(LocalAgents, (local) => local.snapshot(mainId)?.value)), POLL).toBe("online")
      const failed = await sendLocally(owner, mainId, throwing)
      expect(Either.isLeft(failed) && failed.left._tag).toBe("AgentsRestoring")
      await unlock()

      const answer = await routed
      expect(Either.isRight(answer) && answer.right.value).toBe("online")
    } finally {
      await own.stop()
    }
  }, 90_000)
})
