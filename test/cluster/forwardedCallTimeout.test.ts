import { Sharding } from "@effect/cluster"
import { Effect, Exit, Layer, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { ForwardingGatewayClientLive } from "../../src/cluster/ForwardingGatewayClient.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { LocalGatewayClient } from "../../src/cluster/LocalGatewayClient.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { GatewayRepo } from "../../src/store/GatewayRepo.ts"

const GATEWAY = "6f1c2b1e-7a0d-4c55-9d8e-2f1b3c4d5e6f"

/** A call for a stored gateway this runner does not own, whose owner never answers (no runner holds its shard). */
const forwardingToNobody = () => {
  const local = new Proxy({}, { get: (_, name) => () => Effect.die(`the local client is not used here (${String(name)})`) })
  return ForwardingGatewayClientLive.pipe(
    Layer.provide(
      Layer.mergeAll(
        AppConfigTest(),
        Layer.succeed(LocalGatewayClient, local as LocalGatewayClient["Type"]),
        Layer.succeed(GatewayOwnership, { owns: () => false } as unknown as GatewayOwnership["Type"]),
        Layer.succeed(GatewayRepo, { get: () => Effect.succeed(Option.some({ id: GATEWAY })) } as unknown as GatewayRepo["Type"]),
        // The engine retries a send with no runner to take it for ever.
        Layer.succeed(Sharding.Sharding, { makeClient: () => Effect.succeed(() => ({ Call: () => Effect.never })) } as unknown as Sharding.Sharding["Type"])
      )
    )
  )
}

describe("a forwarded gateway call (docs/architecture.md §11)", () => {
  it("ends with GatewayTimeoutError after its timeout plus the 5 s margin, even in an uninterruptible region", async () => {
    const target = { id: GATEWAY, url: "ws://127.0.0.1:1", token: Redacted.make("t") }
    const started = Date.now()
    const exit = await Effect.runPromiseExit(
      Effect.flatMap(GatewayClient, (client) => Effect.uninterruptible(client.call(target, "health", {}, { timeoutMs: 100 }))).pipe(Effect.provide(forwardingToNobody()))
    )
    const elapsed = Date.now() - started
    expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : exit).toMatchObject({ _tag: "GatewayTimeoutError", method: "health", timeoutMs: 5_100 })
    expect(elapsed).toBeGreaterThanOrEqual(5_000)
    expect(elapsed).toBeLessThan(9_000)
  }, 15_000)
})

describe("a gateway's forget forwarded to its owner (docs/architecture.md §9.1 \"Update\")", () => {
  it("is tried again when the owner does not take it at once", async () => {
    const ops: Array<string> = []
    let refusals = 1
    const call = (request: { readonly op: string }) =>
      Effect.suspend(() => {
        ops.push(request.op)
        return refusals-- > 0 ? Effect.fail({ _tag: "EntityNotAssignedToRunner" }) : Effect.void
      })
    const layer = ForwardingGatewayClientLive.pipe(
      Layer.provide(
        Layer.mergeAll(
          AppConfigTest(),
          Layer.succeed(LocalGatewayClient, { forget: () => Effect.void } as unknown as LocalGatewayClient["Type"]),
          Layer.succeed(GatewayOwnership, { owns: () => false } as unknown as GatewayOwnership["Type"]),
          Layer.succeed(GatewayRepo, { get: () => Effect.succeed(Option.some({ id: GATEWAY })) } as unknown as GatewayRepo["Type"]),
          Layer.succeed(Sharding.Sharding, { makeClient: () => Effect.succeed(() => ({ Call: call })) } as unknown as Sharding.Sharding["Type"])
        )
      )
    )
    await Effect.runPromise(Effect.flatMap(GatewayClient, (client) => client.forget(GATEWAY)).pipe(Effect.provide(layer)))
    expect(ops).toEqual(["forget", "forget"])
  })
})
