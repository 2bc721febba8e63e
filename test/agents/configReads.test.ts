import { it } from "@effect/vitest"
import { Effect, Exit, Fiber, Redacted } from "effect"
import { describe, expect } from "vitest"
import { answeredBy, makeConfigReads } from "../../src/agents/configReads.ts"
import type { GatewayClient, GatewayTarget } from "../../src/gateway/GatewayClient.ts"

const target: GatewayTarget = { id: "gw-1", url: "ws://unused", token: Redacted.make("t") }

/** A client whose revision the test moves, and whose `config.get` answers a file with a large part the quick check never reads. */
const fakeClient = () => {
  const state = { revision: 0 as number | undefined, gets: 0 }
  const client = {
    configRevision: () => state.revision,
    call: () =>
      Effect.sync(() => {
        state.gets += 1
        return { hash: `h${state.gets}`, parsed: { agents: { entries: { "agent-0": { name: "A" } }, list: ["large"] }, models: { big: "x".repeat(1_000) } } }
      })
  } as unknown as GatewayClient["Type"]
  return { state, client }
}

describe("makeConfigReads: what is kept (docs/architecture.md §5.6)", () => {
  it.live("keeps only agents.entries, and answers from it while the revision holds", () =>
    Effect.gen(function* () {
      const { state, client } = fakeClient()
      const reads = makeConfigReads(client, 10_000)
      yield* reads.current(target, Effect.succeed(true))
      const second = yield* reads.current(target, Effect.succeed(true))
      expect(second).toEqual({ config: { agents: { entries: { "agent-0": { name: "A" } } } }, fresh: false })
      expect(state.gets).toBe(1)
    })
  )

  it.live("a revision change removes the kept read when looked up", () =>
    Effect.gen(function* () {
      const { state, client } = fakeClient()
      const reads = makeConfigReads(client, 10_000)
      yield* reads.current(target, Effect.succeed(true))
      expect(reads.keptFor()).toEqual(["gw-1"])
      // The gateway moved to another runner: this one holds no socket for it, nothing can be kept.
      state.revision = undefined
      yield* reads.current(target, Effect.succeed(true))
      expect(reads.keptFor()).toEqual([])
      expect(state.gets).toBe(2)
    })
  )

  it.live("a read is removed once older than its bound, even if the gateway is never asked about again", () =>
    Effect.gen(function* () {
      const { client } = fakeClient()
      const reads = makeConfigReads(client, 50)
      yield* reads.current(target, Effect.succeed(true))
      expect(reads.keptFor()).toEqual(["gw-1"])
      yield* Effect.sleep("120 millis")
      expect(reads.keptFor()).toEqual([])
    })
  )
})

describe("makeConfigReads: the health read's outcome (docs/architecture.md §5.6)", () => {
  for (const [name, health] of [
    ["failed", Effect.fail("UNAVAILABLE")],
    ["interrupted", Effect.interrupt]
  ] as const) {
    it.live(`a${name === "interrupted" ? "n" : ""} ${name} health read makes the check read config.get, and neither fails nor interrupts it`, () =>
      Effect.gen(function* () {
        const { state, client } = fakeClient()
        const reads = makeConfigReads(client, 10_000)
        yield* reads.current(target, Effect.succeed(true))
        const readBack = yield* Effect.fork(health as Effect.Effect<never, string>)
        const exit = yield* Effect.exit(reads.current(target, answeredBy(readBack)))
        expect(Exit.isSuccess(exit) && exit.value.fresh).toBe(true)
        expect(state.gets).toBe(2)
        // The check was not interrupted with it: it goes on.
        expect(yield* Fiber.await(readBack).pipe(Effect.map(Exit.isSuccess))).toBe(false)
      })
    )
  }
})
