import { Effect, Either, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentExternalEvent } from "../../machines/agent/agentTypes.ts"
import { MAX_ACTOR_RESTARTS } from "../../src/agents/actorSupervisor.ts"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { AgentRepo } from "../../src/store/AgentRepo.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { createTestDatabase } from "../support/database.ts"
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

      const token = readAuthToken(simulator.state.files.get(before.gateway_agent_id)?.get("AGENTS.md") ?? "")
      const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
      expect(beat.status).toBe(500)
      expect(((await beat.json()) as { detail: string }).detail).toContain("stays stopped")
      const metrics = await (await fetch(`${service.url}/metrics`)).text()
      expect(metrics).toMatch(/switchyard_agent_actor_failures_total\{outcome="restarted"\} 3/)
      expect(metrics).toMatch(/switchyard_agent_actors_failed 1/)
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
  }, 60_000)

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
})
