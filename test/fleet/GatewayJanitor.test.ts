import { it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { expect } from "vitest"
import { GatewayJanitorLive } from "../../src/fleet/GatewayJanitor.ts"
import { GatewayClient, type GatewayClientShape } from "../../src/gateway/GatewayClient.ts"
import { GatewayRepo, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"

const row = (id: string) => ({ id, name: id, url: "ws://127.0.0.1:1", workspaceRoot: "/srv", deletingAt: null, createdAt: new Date(0), updatedAt: new Date(0) })

it.scoped("forgets, once a minute, the sockets of gateways that are no longer stored", () =>
  Effect.gen(function* () {
    const forgotten: Array<string> = []
    const connected = ["kept", "deleted"]
    const client = Layer.succeed(GatewayClient, {
      connected: Effect.sync(() => connected.filter((id) => !forgotten.includes(id))),
      forget: (id: string) => Effect.sync(() => void forgotten.push(id))
    } as unknown as GatewayClientShape)
    const repo = Layer.succeed(GatewayRepo, { list: Effect.succeed([row("kept")]) } as unknown as GatewayRepoShape)
    yield* Layer.build(GatewayJanitorLive.pipe(Layer.provide(Layer.merge(client, repo))))
    yield* TestClock.adjust("1 second")
    expect(forgotten).toEqual(["deleted"])
    yield* TestClock.adjust("1 minute")
    expect(forgotten).toEqual(["deleted"])
  })
)
