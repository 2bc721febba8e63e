import { it } from "@effect/vitest"
import { Cause, Effect, Either, Fiber, Redacted } from "effect"
import { describe, expect } from "vitest"
import { makeGatewayClient, type GatewayTarget } from "../../src/gateway/GatewayClient.ts"
import { GatewayConnectionError, isRetargeted, isTransient } from "../../src/gateway/GatewayError.ts"
import { toStepError } from "../../src/agents/toStepError.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

const CLIENT_CONFIG = { callTimeoutMs: 5_000, handshakeTimeoutMs: 2_000, clientVersion: "0.0.0-test" }

const simulator = Effect.acquireRelease(
  Effect.promise(() => startGatewaySimulator()),
  (sim) => Effect.promise(() => sim.stop())
)

const targetFor = (sim: GatewaySimulator): GatewayTarget => ({ id: "gw-1", url: sim.url, token: Redacted.make(sim.token) })

const isRetargetedFailure = (result: Either.Either<unknown, unknown>) =>
  Either.isLeft(result) && result.left instanceof GatewayConnectionError && isRetargeted(result.left)

describe("pinned gateway targets (GatewayTarget.generation)", () => {
  it.scopedLive("a target pinned before the gateway was forgotten fails as retargeted without dialling; one pinned after, or unpinned, is served", () =>
    Effect.gen(function* () {
      const sim = yield* simulator
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const pinned = { ...targetFor(sim), generation: yield* client.generation("gw-1") }
      yield* client.call(pinned, "agents.list", {})
      yield* client.forget("gw-1")
      const opened = sim.connectionsOpened
      const listed = sim.countOf("agents.list")

      expect(isRetargetedFailure(yield* Effect.either(client.call(pinned, "agents.list", {})))).toBe(true)
      expect(sim.connectionsOpened).toBe(opened)
      expect(sim.countOf("agents.list")).toBe(listed)

      const repinned = { ...targetFor(sim), generation: yield* client.generation("gw-1") }
      expect(Either.isRight(yield* Effect.either(client.call(repinned, "agents.list", {})))).toBe(true)
      expect(Either.isRight(yield* Effect.either(client.call(targetFor(sim), "agents.list", {})))).toBe(true)
    })
  )

  it.scopedLive("connecting a target pinned before the gateway was forgotten fails as retargeted: it neither dials the old address nor replaces the new target's socket", () =>
    Effect.gen(function* () {
      const oldSim = yield* simulator
      const newSim = yield* simulator
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const pinnedOld = { ...targetFor(oldSim), generation: yield* client.generation("gw-1") }
      yield* client.connect(pinnedOld)
      // The url is patched: the gateway is forgotten and its new target connected.
      yield* client.forget("gw-1")
      const pinnedNew = { ...targetFor(newSim), generation: yield* client.generation("gw-1") }
      yield* client.connect(pinnedNew)
      const oldOpened = oldSim.connectionsOpened
      const newOpened = newSim.connectionsOpened

      // A round still holding the old target (its re-read failed) connects it.
      expect(isRetargetedFailure(yield* Effect.either(client.connect(pinnedOld)))).toBe(true)
      expect(oldSim.connectionsOpened).toBe(oldOpened)
      // The new target's socket was not replaced: a call on it reuses it.
      expect(Either.isRight(yield* Effect.either(client.call(pinnedNew, "agents.list", {})))).toBe(true)
      expect(newSim.connectionsOpened).toBe(newOpened)
      expect((yield* client.stats).socketsOpened).toBe(2)
    })
  )

  it.scopedLive("a pinned call in flight when the gateway is forgotten fails as retargeted", () =>
    Effect.gen(function* () {
      const sim = yield* simulator
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      sim.inject({ method: "agents.list", hang: true })
      const pinned = { ...targetFor(sim), generation: yield* client.generation("gw-1") }
      const call = yield* Effect.fork(Effect.either(client.call(pinned, "agents.list", {})))
      yield* Effect.promise(() => expect.poll(() => sim.countOf("agents.list"), { timeout: 3_000, interval: 10 }).toBe(1))
      yield* client.forget("gw-1")
      expect(isRetargetedFailure(yield* Fiber.join(call))).toBe(true)
    })
  )

  it.scopedLive("an unpinned call in flight when the gateway is forgotten fails as retargeted too, not as a final 'disposed'", () =>
    Effect.gen(function* () {
      const sim = yield* simulator
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      sim.inject({ method: "agents.list", hang: true })
      const call = yield* Effect.fork(Effect.either(client.call(targetFor(sim), "agents.list", {})))
      yield* Effect.promise(() => expect.poll(() => sim.countOf("agents.list"), { timeout: 3_000, interval: 10 }).toBe(1))
      yield* client.forget("gw-1")
      const result = yield* Fiber.join(call)
      expect(isRetargetedFailure(result)).toBe(true)
      expect(Either.isLeft(result) && result.left instanceof GatewayConnectionError && toStepError("remove", Cause.fail(result.left), 0).transient).toBe(true)
    })
  )

  it("retargeted is not retried as a call, but the step that failed so is worth another attempt", () => {
    const error = new GatewayConnectionError({ reason: "retargeted", message: "moved", retryable: false })
    expect(isTransient(error)).toBe(false)
    expect(toStepError("apply", Cause.fail(error), 0)).toMatchObject({ tag: "GatewayConnectionError", transient: true })
    const disposed = new GatewayConnectionError({ reason: "closed", message: "connection disposed", retryable: false })
    expect(toStepError("apply", Cause.fail(disposed), 0).transient).toBe(false)
  })
})
