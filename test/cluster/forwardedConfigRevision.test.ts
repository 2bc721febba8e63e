import { Sharding } from "@effect/cluster"
import { Effect, Layer, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { makeConfigReads } from "../../src/agents/configReads.ts"
import { ForwardingGatewayClientLive } from "../../src/cluster/ForwardingGatewayClient.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { LocalGatewayClient } from "../../src/cluster/LocalGatewayClient.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { GatewayRepo } from "../../src/store/GatewayRepo.ts"

const GATEWAY = "6f1c2b1e-7a0d-4c55-9d8e-2f1b3c4d5e6f"

/** A runner whose local client still holds a socket (revision 7) for a gateway it may not own; a forwarded `config.get` is answered by the owner. */
const runner = (owns: boolean) => {
  const forwarded: Array<string> = []
  const local = { configRevision: () => 7, call: () => Effect.die("a non-owner's local client does not call") }
  const call = (request: { readonly method: string }) =>
    Effect.sync(() => {
      forwarded.push(request.method)
      return { hash: "h", parsed: { agents: { entries: {} } } }
    })
  const layer = ForwardingGatewayClientLive.pipe(
    Layer.provide(
      Layer.mergeAll(
        AppConfigTest(),
        Layer.succeed(LocalGatewayClient, local as unknown as LocalGatewayClient["Type"]),
        Layer.succeed(GatewayOwnership, { owns: () => owns } as unknown as GatewayOwnership["Type"]),
        Layer.succeed(GatewayRepo, { get: () => Effect.succeed(Option.some({ id: GATEWAY })) } as unknown as GatewayRepo["Type"]),
        Layer.succeed(Sharding.Sharding, { makeClient: () => Effect.succeed(() => ({ Call: call })) } as unknown as Sharding.Sharding["Type"])
      )
    )
  )
  return { forwarded, layer }
}

describe("the config revision on a cluster runner (docs/architecture.md §5.6)", () => {
  it("is the local socket's on the owner, unknown elsewhere", async () => {
    const revision = (owns: boolean) => Effect.runPromise(Effect.map(GatewayClient, (client) => client.configRevision(GATEWAY)).pipe(Effect.provide(runner(owns).layer)))
    expect(await revision(true)).toBe(7)
    expect(await revision(false)).toBeUndefined()
  })

  it("a non-owner never answers a quick check from a kept read: each check reads config.get from the owner", async () => {
    const { forwarded, layer } = runner(false)
    const target = { id: GATEWAY, url: "ws://127.0.0.1:1", token: Redacted.make("t") }
    const fresh = await Effect.runPromise(
      Effect.flatMap(GatewayClient, (client) => {
        const reads = makeConfigReads(client, 10_000)
        return Effect.all([reads.current(target, Effect.succeed(true)), reads.current(target, Effect.succeed(true))])
      }).pipe(
        Effect.map((answers) => answers.map((answer) => answer.fresh)),
        Effect.provide(layer)
      )
    )
    expect(fresh).toEqual([true, true])
    expect(forwarded).toEqual(["config.get", "config.get"])
  })
})
