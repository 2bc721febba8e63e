import { Sharding } from "@effect/cluster"
import { it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { expect } from "vitest"
import type { AgentExternalEvent } from "../../machines/agent/agentTypes.ts"
import { AgentActorFailed, AgentsRestoring, AgentSystem, type AgentSystemShape } from "../../src/agents/AgentSystem.ts"
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
