import { RunnerHealth, RunnerStorage, Sharding, ShardId } from "@effect/cluster"
import { Effect, Exit, Fiber, Layer, ManagedRuntime, Option, Redacted, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AgentSystem, AgentsRestoring, AgentWaitTimeout, type NewAgentRequest } from "../../src/agents/AgentSystem.ts"
import { snapshotIs } from "../../src/agents/machineVocabulary.ts"
import { LocalAgents, type LocalAgentsShape } from "../../src/agents/LocalAgents.ts"
import { ClusterStatsLive } from "../../src/cluster/GatewayHosting.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { RoutedAgentSystemLive } from "../../src/cluster/RoutedAgentSystem.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { createTestDatabase } from "../support/database.ts"

const GATEWAY = "gw-restoring"
const event = { type: "agent.heartbeat", at: 0 } as const

/**
 * Routing while the owner restores a gateway, against fakes of the engine's entity (which queues
 * a request until its activation ends: here, for ever) and of the local actors
 * (docs/architecture.md §6.6, §11).
 */
const harness = (databaseUrl: string) => {
  const state = { owns: true, hosts: false, restored: new Set<string>() }
  const calls: Array<string> = []
  const entity = (gatewayId: string) => ({
    Ensure: () => Effect.void,
    Send: ({ agentId }: { agentId: string }) => Effect.zipRight(Effect.sync(() => void calls.push(`entity send ${gatewayId} ${agentId}`)), Effect.never),
    Create: ({ request }: { request: NewAgentRequest }) => Effect.zipRight(Effect.sync(() => void calls.push(`entity create ${request.agentId}`)), Effect.never),
    // The new owner's durable snapshot: unavailable for the first read (a handover), then awaiting.
    Snapshot: ({ agentId }: { agentId: string }) =>
      Effect.suspend(() => {
        calls.push(`entity snapshot ${agentId}`)
        if (agentId === "silent") return Effect.never
        if (agentId === "given-up") return Effect.fail(new AgentsRestoring({ agentId, reason: "actor-failed" }))
        if (agentId === "restarting") return Effect.fail(new AgentsRestoring({ agentId, reason: "actor-restarting" }))
        return calls.filter((call) => call.startsWith("entity snapshot")).length === 1
          ? Effect.fail(new AgentsRestoring({ agentId, reason: "owner-unavailable" }))
          : Effect.succeed({ value: { provisioning: "awaiting" }, context: {} })
      })
  })
  const sharding = { makeClient: () => Effect.succeed(entity) } as unknown as Sharding.Sharding["Type"]
  const local = {
    hosts: () => state.hosts,
    serves: (gatewayId: string, agentId: string) => gatewayId === GATEWAY && state.restored.has(agentId),
    gatewayOf: () => GATEWAY,
    send: (agentId: string) => Effect.sync(() => (calls.push(`local send ${agentId}`), { local: agentId })),
    create: (request: NewAgentRequest) => Effect.sync(() => (calls.push(`local create ${request.agentId}`), { local: request.agentId })),
    // The actor stops before the deadline because its gateway leaves this runner mid-wait.
    waitFor: (agentId: string, _predicate: unknown, timeoutMs: number) =>
      Effect.suspend(() => {
        calls.push(`local wait ${agentId}`)
        state.owns = false
        return Effect.fail(new AgentWaitTimeout({ agentId, timeoutMs, statePath: "provisioning.applying" }))
      }),
    // An actor restarting or past its restart budget: no snapshot here, the supervisor's 503 (§6.8).
    snapshot: () => undefined,
    require: (agentId: string) => Effect.fail(new AgentsRestoring({ agentId, reason: "actor-failed" })),
    failures: () => [],
    actorCount: () => state.restored.size
  } as unknown as LocalAgentsShape
  const layer = RoutedAgentSystemLive.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        Layer.succeed(Sharding.Sharding, sharding),
        Layer.succeed(LocalAgents, local),
        Layer.succeed(GatewayOwnership, { owns: () => state.owns, shardOf: () => ShardId.make("default", 1), ownedShards: () => 300, ownedShardsKey: () => "all", self: "127.0.0.1:1", shardsPerGroup: 300 }),
        Layer.succeed(RunnerStorage.RunnerStorage, { getRunners: Effect.succeed([]) } as unknown as RunnerStorage.RunnerStorage["Type"]),
        Layer.succeed(RunnerHealth.RunnerHealth, {} as RunnerHealth.RunnerHealth["Type"]),
        ClusterStatsLive
      )
    ),
    Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)),
    Layer.provideMerge(AppConfigTest({ databaseUrl: Option.some(Redacted.make(databaseUrl)) }))
  )
  return { state, calls, layer }
}

describe("routing while the owner restores a gateway", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let scope: Scope.CloseableScope
  let h: ReturnType<typeof harness>
  let run: <A, E>(effect: Effect.Effect<A, E, AgentSystem>) => Promise<A>

  beforeAll(async () => {
    db = await createTestDatabase()
    h = harness(db.url)
    scope = Effect.runSync(Scope.make())
    const context = await Effect.runPromise(Layer.buildWithScope(h.layer, scope))
    run = (effect) => Effect.runPromise(Effect.provide(effect, context))
  })

  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await db?.drop()
  })

  /** Sends `agentId` a heartbeat; the calls it made once it answered or, through the entity, waits. */
  const beat = async (agentId: string) => {
    h.calls.length = 0
    const fiber = await run(Effect.forkDaemon(Effect.flatMap(AgentSystem, (system) => system.send(agentId, event))))
    await expect.poll(() => h.calls.length, { timeout: 5_000 }).toBeGreaterThan(0)
    await Effect.runPromise(Fiber.interrupt(fiber))
    return [...h.calls]
  }

  it("answers an agent already restored here locally, before its gateway's restore ends; one not restored yet waits on the entity", async () => {
    h.state.restored.add("restored")
    expect(await beat("restored")).toEqual(["local send restored"])
    expect(await beat("pending")).toEqual([`entity send ${GATEWAY} pending`])
  })

  it("keeps create on the entity until the whole gateway is hosted", async () => {
    h.calls.length = 0
    const request = { agentId: "new", gatewayId: GATEWAY, role: "worker" } as unknown as NewAgentRequest
    const fiber = await run(Effect.forkDaemon(Effect.flatMap(AgentSystem, (system) => system.create(request))))
    await expect.poll(() => [...h.calls], { timeout: 5_000 }).toEqual(["entity create new"])
    await Effect.runPromise(Fiber.interrupt(fiber))
  })

  it("stops serving locally at once when the gateway leaves or the runner loses its shard", async () => {
    h.state.restored.add("restored")
    h.state.owns = false
    expect(await beat("restored")).toEqual([`entity send ${GATEWAY} restored`])
    h.state.owns = true
    h.state.restored.delete("restored")
    expect(await beat("restored")).toEqual([`entity send ${GATEWAY} restored`])
  })

  it("a wait begun on the owner goes on at the new owner when the gateway leaves mid-wait, through a moment of no owner", async () => {
    h.state.owns = true
    h.state.restored.add("moving")
    h.calls.length = 0
    try {
      const reached = await run(Effect.flatMap(AgentSystem, (system) => system.waitFor("moving", (snapshot) => snapshotIs(snapshot, "provisioning.awaiting"), 5_000)))
      expect(snapshotIs(reached, "provisioning.awaiting")).toBe(true)
      expect(h.calls).toEqual(["local wait moving", "entity snapshot moving", "entity snapshot moving"])
    } finally {
      h.state.owns = true
    }
  })

  it("a required actor restarting or past its budget here answers the supervisor's 503, not AgentNotFound", async () => {
    h.state.owns = true
    h.state.restored.add("down")
    const exit = await run(Effect.exit(Effect.flatMap(AgentSystem, (system) => system.requireActor("down"))))
    expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "AgentsRestoring", reason: "actor-failed" } } })
  })

  it("a remote wait for an actor past its restart budget fails at once with actor-failed; one restarting is asked again until the deadline", async () => {
    h.state.owns = false
    try {
      h.calls.length = 0
      const failed = await run(Effect.exit(Effect.flatMap(AgentSystem, (system) => system.waitFor("given-up", () => true, 2_000))))
      expect(failed).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "AgentsRestoring", reason: "actor-failed" } } })
      expect(h.calls).toEqual(["entity snapshot given-up"])
      h.calls.length = 0
      const restarting = await run(Effect.exit(Effect.flatMap(AgentSystem, (system) => system.waitFor("restarting", () => true, 400))))
      expect(restarting).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "AgentsRestoring", reason: "actor-restarting" } } })
      expect(h.calls.length).toBeGreaterThan(1)
    } finally {
      h.state.owns = true
    }
  })

  it("a remote read that does not answer ends at the wait's deadline, as an unavailable owner", async () => {
    h.state.owns = false
    try {
      const began = Date.now()
      const exit = await run(Effect.exit(Effect.flatMap(AgentSystem, (system) => system.waitFor("silent", () => true, 300))))
      // Not the 18 s a request to an owner may take (OWNER_TIMEOUT_MS): the wait's own deadline.
      expect(Date.now() - began).toBeLessThan(5_000)
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "AgentsRestoring", reason: "owner-unavailable" } } })
    } finally {
      h.state.owns = true
    }
  })
})
