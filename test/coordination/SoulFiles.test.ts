import { it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { describe, expect } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { makeSoulFiles, SoulFiles } from "../../src/coordination/SoulFiles.ts"
import { GatewayClient, type GatewayClientShape } from "../../src/gateway/GatewayClient.ts"
import { GatewayConnectionError } from "../../src/gateway/GatewayError.ts"
import type { AgentRow } from "../../src/store/AgentRepo.ts"
import { GatewayRepo, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

const AGENT = { id: "a-1", name: "Ava", gatewayId: "g-1", gatewayAgentId: "mc-a-1", sessionKey: "agent:mc-a-1:main" } as AgentRow
const OLD_URL = "ws://127.0.0.1:1"
const NEW_URL = "ws://127.0.0.1:2"

/**
 * SoulFiles over fakes: the gateway's row holds `OLD_URL` until a read on it is answered
 * `retargeted` (a PATCH overtook it), then `NEW_URL`, where SOUL.md reads "moved soul".
 */
const harness = () => {
  let url = OLD_URL
  const readFrom: Array<string> = []
  const layer = Layer.effect(SoulFiles, makeSoulFiles).pipe(
    Layer.provide(
      Layer.mergeAll(
        AppConfigTest(),
        Layer.succeed(
          GatewayRepo,
          dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", {
            get: (id) => Effect.sync(() => Option.some({ id, name: id, url, token: Redacted.make("t"), workspaceRoot: "/srv", deletingAt: null, createdAt: new Date(0), updatedAt: new Date(0) })),
            // What the pinned load (`loadPinnedGateway`) reads.
            getShared: (id) => Effect.sync(() => Option.some({ id, name: id, url, token: Redacted.make("t"), workspaceRoot: "/srv", deletingAt: null, createdAt: new Date(0), updatedAt: new Date(0) }))
          })
        ),
        Layer.succeed(
          GatewayClient,
          dieOnUnstubbed<GatewayClientShape>("GatewayClient", {
            generation: () => Effect.succeed(0),
            call: ((target: { url: string }) => {
              readFrom.push(target.url)
              if (target.url === NEW_URL) return Effect.succeed({ agentId: AGENT.gatewayAgentId, workspace: "/srv", file: { name: "SOUL.md", missing: false, content: "moved soul" } })
              url = NEW_URL
              return Effect.fail(new GatewayConnectionError({ reason: "retargeted", message: "connection dropped: the gateway was retargeted", retryable: false }))
            }) as GatewayClientShape["call"]
          })
        )
      )
    )
  )
  return { layer, readFrom }
}

describe("SoulFiles.read", () => {
  it.effect("a read the gateway's PATCH overtook (retargeted) is read again from the new target", () => {
    const { layer, readFrom } = harness()
    return Effect.gen(function* () {
      const soul = yield* Effect.flatMap(SoulFiles, (files) => files.read(AGENT))
      expect(soul).toBe("moved soul")
      expect(readFrom).toEqual([OLD_URL, NEW_URL])
    }).pipe(Effect.provide(layer))
  })
})
