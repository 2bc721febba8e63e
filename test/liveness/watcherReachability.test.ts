import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import type { GatewayClientShape } from "../../src/gateway/GatewayClient.ts"
import { GatewayConnectionError } from "../../src/gateway/GatewayError.ts"
import type { GatewayLivenessShape } from "../../src/liveness/GatewayLiveness.ts"
import { RosterCache } from "../../src/liveness/RosterCache.ts"
import type { WatcherContext } from "../../src/liveness/watcherContext.ts"
import { makeWatcherReachability } from "../../src/liveness/watcherReachability.ts"

const retargeted = new GatewayConnectionError({ reason: "retargeted", message: "gateway gw-1 was retargeted", retryable: false })

/** A watcher's context whose probes fail as retargeted (a forget happened) and whose target reads fail while `read.failing`. */
const contextOf = (read: { failing: boolean }) => {
  const updates: Array<{ reachable?: boolean | undefined }> = []
  const context = {
    gatewayId: "gw-1",
    labels: { gateway_id: "gw-1" },
    client: { call: () => Effect.fail(retargeted) } as unknown as GatewayClientShape,
    registry: { update: (_id: string, change: { reachable?: boolean }) => Effect.sync(() => void updates.push(change)) } as unknown as GatewayLivenessShape,
    probeOptions: { timeoutMs: 1_000 },
    roster: new RosterCache(5_000),
    target: { id: "gw-1", url: "ws://old", token: Redacted.make("t"), generation: 0 },
    offers: { health: true, reach: true },
    refreshTarget: Effect.sync(() => ({ failed: read.failing })),
    send: () => Effect.void,
    snapshotLiveness: () => undefined
  } as unknown as WatcherContext
  return { context, updates }
}

describe("watcher reachability after a retarget (docs/operations.md §8)", () => {
  it("probes failing as retargeted while the target cannot be read mark the gateway lost after 3 in a row, not before", async () => {
    const read = { failing: true }
    const { context, updates } = contextOf(read)
    const reach = makeWatcherReachability(context, () => Effect.void)
    await Effect.runPromise(Effect.zipRight(reach.probe, reach.probe))
    expect(updates.filter((change) => change.reachable === false)).toHaveLength(0)
    await Effect.runPromise(reach.probe)
    expect(updates.filter((change) => change.reachable === false)).toHaveLength(1)
  })

  it("probes failing as retargeted whose target read succeeds mark nothing lost", async () => {
    const { context, updates } = contextOf({ failing: false })
    const reach = makeWatcherReachability(context, () => Effect.void)
    for (let i = 0; i < 5; i++) await Effect.runPromise(reach.probe)
    expect(updates.filter((change) => change.reachable === false)).toHaveLength(0)
  })
})
