import { Sharding } from "@effect/cluster"
import { Deferred, Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { AgentSystem, type AgentSystemShape } from "../../src/agents/AgentSystem.ts"
import { reapGateway } from "../../src/fleet/reapGateway.ts"
import { AgentRepo, type AgentRepoShape } from "../../src/store/AgentRepo.ts"
import { GatewayRepo, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

const GATEWAY = "00000000-0000-4000-8000-000000000002"

// docs/architecture.md §11: the owner is told a deleted gateway is gone; the delete does not wait for it.
describe("the last reap step of a deleted gateway", () => {
  it("removes the row and answers without waiting for an owner that does not answer", async () => {
    const removed: Array<string> = []
    const asked = Effect.runSync(Deferred.make<string>())
    // An owner that never answers (down, or its shard moving): the request would wait for the owner timeout (10 s).
    const silentOwner = () => Effect.succeed((gatewayId: string) => ({ Retire: () => Deferred.succeed(asked, gatewayId).pipe(Effect.zipRight(Effect.never)) }))
    const layer = Layer.mergeAll(
      Layer.succeed(AgentSystem, dieOnUnstubbed<AgentSystemShape>("AgentSystem", {})),
      Layer.succeed(AgentRepo, dieOnUnstubbed<AgentRepoShape>("AgentRepo", { page: () => Effect.succeed({ items: [], next: null }) })),
      Layer.succeed(GatewayRepo, dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", { remove: (id) => Effect.sync(() => void removed.push(id)) as never })),
      Layer.succeed(Sharding.Sharding, dieOnUnstubbed<Sharding.Sharding["Type"]>("Sharding", { makeClient: silentOwner as never }))
    )
    const left = await Effect.runPromise(reapGateway(GATEWAY, { retryFailed: false, force: false }).pipe(Effect.provide(layer)))
    expect(left).toBe(0)
    expect(removed).toEqual([GATEWAY])
    // The owner was still told.
    expect(await Effect.runPromise(Deferred.await(asked))).toBe(GATEWAY)
  }, 5_000)
})
