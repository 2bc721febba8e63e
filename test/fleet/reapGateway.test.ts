import { Sharding } from "@effect/cluster"
import { it } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { expect } from "vitest"
import type { AgentExternalEvent } from "../../machines/agent/agentTypes.ts"
import { AgentActorFailed, AgentsRestoring, AgentSystem, type AgentSystemShape } from "../../src/agents/AgentSystem.ts"
import { RESTART_WINDOW_MS } from "../../src/agents/actorSupervisor.ts"
import { reapGateway } from "../../src/fleet/reapGateway.ts"
import { AgentRepo, type AgentRow } from "../../src/store/AgentRepo.ts"
import { GatewayRepo } from "../../src/store/GatewayRepo.ts"

/** Three board agents of gateway "gw"; `refusing` answer their delete with an error, the others take it. */
const fixture = (refusing: ReadonlyMap<string, AgentActorFailed | AgentsRestoring>) => {
  const agents = ["a", "b", "c"].map((id) => ({ id, role: "worker", status: "online", statePath: "online" }) as unknown as AgentRow)
  const sent: Array<string> = []
  const system = {
    send: (agentId: string, event: AgentExternalEvent) =>
      Effect.suspend(() => {
        sent.push(`${event.type} ${agentId}`)
        const refusal = refusing.get(agentId)
        return refusal === undefined ? Effect.succeed({}) : Effect.fail(refusal)
      })
  } as unknown as AgentSystemShape
  const layer = Layer.mergeAll(
    Layer.succeed(AgentSystem, system),
    Layer.succeed(AgentRepo, { page: () => Effect.succeed({ items: agents, next: null }) } as unknown as AgentRepo["Type"]),
    // The row must not go while agents remain: a fake that dies if asked.
    Layer.succeed(GatewayRepo, {} as GatewayRepo["Type"]),
    Layer.succeed(Sharding.Sharding, {} as Sharding.Sharding["Type"])
  )
  return { sent, layer }
}

// docs/operations.md §6.7, docs/architecture.md §6.8: one agent that cannot take its delete holds up no other.
it.effect("a deletion step sends every agent its delete even when one refuses it (its actor stopped, another restoring)", () =>
  Effect.gen(function* () {
    const { sent, layer } = fixture(
      new Map<string, AgentActorFailed | AgentsRestoring>([
        ["a", new AgentActorFailed({ agentId: "a", failures: 4, lastError: "boom" })],
        ["b", new AgentsRestoring({ agentId: "b", reason: "restarting" })]
      ])
    )
    const remaining = yield* reapGateway("gw", { retryFailed: false, force: false }).pipe(Effect.provide(layer))
    expect(sent).toEqual(["agent.delete a", "agent.delete b", "agent.delete c"])
    expect(remaining).toBe(3)
  })
)

// docs/architecture.md §6.8: a deleting agent whose actor stopped would never finish its removal.
it.effect("a deletion step sends the delete to a deleting agent still for a restart window whose actor stopped, and only asks after those", () =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const deleting = (id: string, updatedAt: number) => ({ id, role: "worker", status: "deleting", statePath: "deleting.removing", updatedAt: new Date(updatedAt) }) as unknown as AgentRow
    const agents = [deleting("stopped", now - RESTART_WINDOW_MS), deleting("running", now - RESTART_WINDOW_MS), deleting("recent", now)]
    const sent: Array<string> = []
    const asked: Array<string> = []
    const system = {
      requireActor: (agentId: string) =>
        Effect.suspend(() => {
          asked.push(agentId)
          return agentId === "stopped" ? Effect.fail(new AgentActorFailed({ agentId, failures: 4, lastError: "boom" })) : Effect.void
        }),
      send: (agentId: string, event: AgentExternalEvent) => Effect.sync(() => void sent.push(`${event.type} ${agentId}`))
    } as unknown as AgentSystemShape
    const layer = Layer.mergeAll(
      Layer.succeed(AgentSystem, system),
      Layer.succeed(AgentRepo, { page: () => Effect.succeed({ items: agents, next: null }) } as unknown as AgentRepo["Type"]),
      Layer.succeed(GatewayRepo, {} as GatewayRepo["Type"]),
      Layer.succeed(Sharding.Sharding, {} as Sharding.Sharding["Type"])
    )

    const remaining = yield* reapGateway("gw", { retryFailed: false, force: false }).pipe(Effect.provide(layer))

    expect(asked).toEqual(["stopped", "running"])
    expect(sent).toEqual(["agent.delete stopped"])
    expect(remaining).toBe(3)
  })
)
