import { Entity, ShardingConfig } from "@effect/cluster"
import { SqlError } from "@effect/sql/SqlError"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { LocalAgents, type LocalAgentsShape } from "../../src/agents/LocalAgents.ts"
import { GatewayEntity } from "../../src/cluster/GatewayEntity.ts"
import { GatewayEntityLive } from "../../src/cluster/GatewayEntityLive.ts"
import { ClusterStats, GatewayHostedPrograms, type GatewayHostedProgram } from "../../src/cluster/GatewayHosting.ts"
import { LocalGatewayClient } from "../../src/cluster/LocalGatewayClient.ts"
import { OwnerNudgesLive } from "../../src/cluster/OwnerNudges.ts"
import type { GatewayClientShape } from "../../src/gateway/GatewayClient.ts"
import { GatewayRepo, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

const GATEWAY = "00000000-0000-4000-8000-000000000001"

/** The gateway entity with fakes around it: `exists` answers the n-th read of the row (0 = activation's). */
const entityWith = (options: { readonly exists: (read: number) => Effect.Effect<boolean, SqlError>; readonly programs: ReadonlyArray<GatewayHostedProgram>; readonly forgotten: Deferred.Deferred<void> }) => {
  let reads = 0
  const fakes = Layer.mergeAll(
    Layer.succeed(LocalAgents, dieOnUnstubbed<LocalAgentsShape>("LocalAgents", { hostGateway: () => Effect.succeed(0) })),
    Layer.succeed(LocalGatewayClient, dieOnUnstubbed<GatewayClientShape>("LocalGatewayClient", { forget: () => Deferred.succeed(options.forgotten, undefined).pipe(Effect.asVoid) })),
    Layer.succeed(GatewayRepo, dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", { exists: () => Effect.suspend(() => options.exists(reads++)) })),
    Layer.succeed(GatewayHostedPrograms, options.programs),
    Layer.succeed(ClusterStats, { activations: 0, takeovers: 0, started: false }),
    OwnerNudgesLive
  )
  return Entity.makeTestClient(GatewayEntity, GatewayEntityLive.pipe(Layer.provide(fakes))).pipe(Effect.flatMap((client) => client(GATEWAY)))
}

const run = <A, E>(effect: Effect.Effect<A, E, ShardingConfig.ShardingConfig | import("effect").Scope.Scope>) =>
  Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(ShardingConfig.layerDefaults)))

// docs/architecture.md §11: a deleted gateway is let go by its entity (`Retire`).
describe("the gateway entity's retirement", () => {
  it("leaves the read of the row interruptible: a caller (or the entity's close) that gives up does not wait for it", async () => {
    await run(
      Effect.gen(function* () {
        const reading = yield* Deferred.make<void>()
        const interrupted = yield* Deferred.make<void>()
        const forgotten = yield* Deferred.make<void>()
        const exists = (read: number) =>
          read === 0
            ? Effect.succeed(true)
            : Deferred.succeed(reading, undefined).pipe(Effect.zipRight(Effect.never), Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
        const entity = yield* entityWith({ exists, programs: [], forgotten })
        const retire = yield* Effect.fork(entity.Retire())
        yield* Deferred.await(reading)
        yield* Fiber.interrupt(retire)
        // Uninterruptible, the read would hold the request (and the entity's close) for as long as it takes.
        yield* Deferred.await(interrupted)
        expect(yield* Deferred.isDone(forgotten)).toBe(false)
      })
    )
  }, 10_000)

  it("reads the row again shortly when a program ends by itself and the read fails, and lets the gateway go", async () => {
    await run(
      Effect.gen(function* () {
        const forgotten = yield* Deferred.make<void>()
        const failed = new SqlError({ cause: new Error("timeout acquiring a connection"), message: "Failed to acquire connection" })
        // Activation finds the row; the two reads after the program ended fail; the third finds it gone.
        const exists = (read: number) => (read === 0 ? Effect.succeed(true) : read <= 2 ? Effect.fail(failed) : Effect.succeed(false))
        yield* entityWith({ exists, programs: [() => Effect.void], forgotten })
        yield* Deferred.await(forgotten)
      })
    )
  }, 10_000)

  it("retires every program when the first one ends by itself at activation, the others included", async () => {
    await run(
      Effect.gen(function* () {
        const forgotten = yield* Deferred.make<void>()
        const stopped = yield* Deferred.make<void>()
        const exists = (read: number) => Effect.succeed(read === 0)
        const runsOn: GatewayHostedProgram = () => Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(stopped, undefined)))
        yield* entityWith({ exists, programs: [() => Effect.void, runsOn], forgotten })
        yield* Deferred.await(forgotten)
        yield* Deferred.await(stopped)
      })
    )
  }, 10_000)
})
