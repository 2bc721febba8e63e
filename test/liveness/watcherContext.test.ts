import { Deferred, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { AgentSystem, type AgentSystemShape } from "../../src/agents/AgentSystem.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { GatewayClient, type GatewayClientShape } from "../../src/gateway/GatewayClient.ts"
import { GatewayLiveness, type GatewayLivenessShape } from "../../src/liveness/GatewayLiveness.ts"
import { makeWatcherContext } from "../../src/liveness/watcherContext.ts"
import { GatewayRepo, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

describe("the watcher's target reads (docs/operations.md §8)", () => {
  it("of two overlapping reads, the one pinned to the older generation never replaces the newer target, whatever order they end in", async () => {
    const url = await Effect.runPromise(
      Effect.gen(function* () {
        let generation = 0
        const slowRead = yield* Deferred.make<void>()
        const rowOf = (url: string) => ({ id: "gw-1", url, token: Redacted.make("t") })
        // Reads in order: the watcher's first, a slow one of the old row, then a fast one of the new row.
        const reads = [Effect.succeed(rowOf("ws://old")), Effect.as(Deferred.await(slowRead), rowOf("ws://old")), Effect.succeed(rowOf("ws://new"))]
        const layer = Layer.mergeAll(
          Layer.succeed(GatewayClient, dieOnUnstubbed<GatewayClientShape>("GatewayClient", { generation: () => Effect.sync(() => generation) })),
          Layer.succeed(AgentSystem, dieOnUnstubbed<AgentSystemShape>("AgentSystem", {})),
          Layer.succeed(GatewayLiveness, dieOnUnstubbed<GatewayLivenessShape>("GatewayLiveness", {})),
          Layer.succeed(GatewayRepo, dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", { get: () => Effect.map(reads.shift()!, Option.some) as never })),
          AppConfigTest({})
        )
        const context = yield* Effect.provide(makeWatcherContext("gw-1"), layer)
        const older = yield* Effect.fork(context.refreshTarget)
        yield* Effect.yieldNow()
        // A forget: the newer read is pinned to the next generation, and ends first.
        generation = 1
        yield* context.refreshTarget
        yield* Deferred.succeed(slowRead, undefined)
        yield* Fiber.join(older)
        return context.target.url
      })
    )
    expect(url).toBe("ws://new")
  })
})
