import { SqlError } from "@effect/sql/SqlError"
import { it } from "@effect/vitest"
import { Deferred, Effect, HashMap, Logger, TestClock } from "effect"
import { describe, expect } from "vitest"
import { createActor, setup } from "xstate"
import type { AgentEvent } from "../../machines/agent/agentTypes.ts"
import { GatewayNotFound } from "../../src/agents/GatewayRowErrors.ts"
import { effectActor, type AwaitDurable, type ProgramLanes } from "../../src/agents/effectActor.ts"
import { GatewayRpcError } from "../../src/gateway/GatewayError.ts"

type ParentEvent = AgentEvent | { readonly type: "leave" }

/**
 * A parent machine that invokes `effectActor(runtime, lanes, awaitDurable, "apply", program, reads)` in `running`, records
 * every event it gets back, and leaves `running` (stopping the invoked actor) on `leave`.
 * The runtime is the test's, so its TestClock drives the program.
 */
const runBridge = <E, P = never>(
  program: (input: { agentId: string; n: number }, read?: P) => Effect.Effect<unknown, E>,
  lanes: ProgramLanes = new Map(),
  awaitDurable: AwaitDurable = () => Effect.void,
  reads?: (input: { agentId: string; n: number }) => Effect.Effect<P, E>
) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const received: Array<ParentEvent> = []
    const record = ({ event }: { event: ParentEvent }) => void received.push(event)
    const machine = setup({
      types: { events: {} as ParentEvent },
      actors: { step: effectActor(runtime, lanes, awaitDurable, "apply", program, reads) }
    }).createMachine({
      initial: "running",
      on: { "apply.done": { actions: record }, "apply.failed": { actions: record } },
      states: {
        running: { invoke: { src: "step", input: { agentId: "a1", n: 21 } }, on: { leave: "left" } },
        left: {}
      }
    })
    const actor = createActor(machine).start()
    yield* Effect.addFinalizer(() => Effect.sync(() => actor.stop()))
    return { actor, received }
  })

/** Yields to other fibers until `check` holds, at most `rounds` times (the clock does not move). */
const settle = (check: () => boolean, rounds = 1_000) =>
  Effect.gen(function* () {
    for (let i = 0; i < rounds && !check(); i++) yield* Effect.yieldNow()
    return check()
  })

describe("effectActor", () => {
  it.scoped("sends <step>.done with the program's output and the clock's time", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1234 millis")
      const { received } = yield* runBridge(({ n }) => Effect.succeed({ tokenHash: `h${n * 2}` }))
      expect(yield* settle(() => received.length > 0)).toBe(true)
      expect(received).toEqual([{ type: "apply.done", at: 1_234, output: { tokenHash: "h42" } }])
    })
  )

  it.scoped("sends <step>.failed with the typed error as data, its tag the Effect error's _tag", () =>
    Effect.gen(function* () {
      const rpc = new GatewayRpcError({ method: "agents.create", code: "INVALID_REQUEST", kind: "invalid_request", message: "bad params", retryable: false })
      const first = yield* runBridge(() => Effect.fail(rpc))
      const missing = yield* runBridge(() => Effect.fail(new GatewayNotFound({ gatewayId: "gw-1" })))
      const unavailable = yield* runBridge(() =>
        Effect.fail(new GatewayRpcError({ method: "health", code: "UNAVAILABLE", kind: "unavailable", message: "busy", retryable: true, retryAfterMs: 700 }))
      )
      const defect = yield* runBridge(() => Effect.die(new Error("kaboom")))
      expect(yield* settle(() => [first, missing, unavailable, defect].every((bridge) => bridge.received.length > 0))).toBe(true)

      expect(first.received).toEqual([
        { type: "apply.failed", at: 0, error: { tag: rpc._tag, message: "agents.create: INVALID_REQUEST bad params", transient: false, retryAfterMs: undefined, step: "apply", at: 0 } }
      ])
      expect(missing.received[0]).toMatchObject({ type: "apply.failed", error: { tag: "GatewayNotFound", message: "gateway gw-1 no longer exists", transient: false } })
      expect(unavailable.received[0]).toMatchObject({ type: "apply.failed", error: { tag: "GatewayRpcError", transient: true, retryAfterMs: 700 } })
      expect(defect.received[0]).toMatchObject({ type: "apply.failed", error: { tag: "Defect", transient: false } })
      // The machine gets plain data it can persist, not the error instance.
      expect(JSON.parse(JSON.stringify(first.received[0]))).toEqual(first.received[0])
    })
  )

  it.scoped("interrupts the fiber when the state is left, and sends nothing afterwards", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      let interrupted = false
      const { actor, received } = yield* runBridge(() =>
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.sleep("10 seconds")),
          Effect.as({ tokenHash: "late" }),
          Effect.onInterrupt(() => Effect.sync(() => void (interrupted = true)))
        )
      )
      yield* Deferred.await(started)
      expect(interrupted).toBe(false)
      actor.send({ type: "leave" })
      expect(actor.getSnapshot().value).toBe("left")
      expect(yield* settle(() => interrupted)).toBe(true)
      // Had the fiber survived, its sleep would end here and `apply.done` would follow.
      yield* TestClock.adjust("1 minute")
      expect(yield* settle(() => received.length > 0, 100)).toBe(false)
      expect(actor.getSnapshot().value).toBe("left")
    })
  )

  it.scoped("drops a result that completes while the actor is being stopped", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const finished = yield* Deferred.make<void>()
      // The program cannot be interrupted, so it completes after the stop: the bridge must drop it.
      const { actor, received } = yield* runBridge(() =>
        Effect.uninterruptible(
          Deferred.succeed(started, undefined).pipe(Effect.zipRight(Deferred.await(release)), Effect.as({ tokenHash: "late" }))
        ).pipe(Effect.ensuring(Deferred.succeed(finished, undefined)))
      )
      yield* Deferred.await(started)
      actor.send({ type: "leave" })
      yield* Deferred.succeed(release, undefined)
      yield* Deferred.await(finished)
      expect(yield* settle(() => received.length > 0, 100)).toBe(false)
    })
  )

  it.scoped("an agent's next program waits until its previous one, interrupted but uninterruptible, has ended", () =>
    Effect.gen(function* () {
      const lanes: ProgramLanes = new Map()
      const log: Array<string> = []
      const release = yield* Deferred.make<void>()
      let createSent = false
      const first = yield* runBridge(
        () =>
          Effect.uninterruptible(
            Effect.sync(() => (createSent = true)).pipe(Effect.zipRight(Deferred.await(release)), Effect.zipRight(Effect.sync(() => log.push("create finished"))))
          ),
        lanes
      )
      expect(yield* settle(() => createSent)).toBe(true)
      first.actor.send({ type: "leave" })
      yield* runBridge(() => Effect.sync(() => log.push("delete started")), lanes)
      yield* settle(() => log.length > 0, 200)
      expect(log).toEqual([])
      yield* Deferred.succeed(release, undefined)
      expect(yield* settle(() => log.length === 2)).toBe(true)
      expect(log).toEqual(["create finished", "delete started"])
    })
  )

  it.scoped("starts a program only once the snapshot that invoked it is durable (write-ahead)", () =>
    Effect.gen(function* () {
      const runtime = yield* Effect.runtime<never>()
      // A writer under the test's control: `offer` as AgentSystem does (an observer of every
      // snapshot), and saved only when the test says so.
      const offered: Array<string> = []
      const saved = yield* Deferred.make<void>()
      const awaitedFor: Array<string | undefined> = []
      const awaitDurable: AwaitDurable = () =>
        Effect.suspend(() => {
          awaitedFor.push(offered.at(-1))
          return Deferred.await(saved)
        })
      let started = 0
      const received: Array<ParentEvent> = []
      const machine = setup({
        types: { events: {} as ParentEvent | { readonly type: "delete" } },
        actors: { remove: effectActor(runtime, new Map(), awaitDurable, "remove", () => Effect.sync(() => (started += 1))) }
      }).createMachine({
        initial: "online",
        states: {
          online: { on: { delete: "deleting" } },
          deleting: {
            invoke: { src: "remove", input: { agentId: "a1" } },
            on: { "remove.done": { target: "deleted", actions: ({ event }) => void received.push(event) } }
          },
          deleted: {}
        }
      })
      const actor = createActor(machine)
      actor.subscribe((snapshot) => void offered.push(String(snapshot.value)))
      actor.start()
      yield* Effect.addFinalizer(() => Effect.sync(() => actor.stop()))

      actor.send({ type: "delete" })
      yield* TestClock.adjust("1 minute")
      expect(yield* settle(() => started > 0, 200)).toBe(false)
      // It waited for the snapshot in `deleting`, the one that authorises the delete.
      expect(awaitedFor).toEqual(["deleting"])
      yield* Deferred.succeed(saved, undefined)
      expect(yield* settle(() => received.length > 0)).toBe(true)
      expect(started).toBe(1)
      expect(actor.getSnapshot().value).toBe("deleted")
    })
  )

  it.scoped("runs a program's reads beside the write-ahead wait, and the program, with what they read, only once the snapshot is durable", () =>
    Effect.gen(function* () {
      const saved = yield* Deferred.make<void>()
      const log: Array<string> = []
      const { received } = yield* runBridge(
        (input: { agentId: string }, read?: string) => Effect.sync(() => void log.push(`program with ${read}`)),
        new Map(),
        () => Deferred.await(saved),
        () => Effect.sync(() => (log.push("read"), "the rows"))
      )
      // Read while the snapshot is not yet saved; the program waits for the save.
      expect(yield* settle(() => log.length > 0)).toBe(true)
      expect(yield* settle(() => log.length > 1, 200)).toBe(false)
      expect(log).toEqual(["read"])
      yield* Deferred.succeed(saved, undefined)
      expect(yield* settle(() => received.length > 0)).toBe(true)
      expect(log).toEqual(["read", "program with the rows"])
    })
  )
  it.scoped("reads that failed during the write-ahead wait (the database away) are made again once the snapshot is durable, not failed with the stale error", () =>
    Effect.gen(function* () {
      const saved = yield* Deferred.make<void>()
      let reads = 0
      // The first read fails (its pool could not reach Postgres); the database is back by the save.
      const { received } = yield* runBridge(
        (input: { agentId: string }, read?: string) => Effect.succeed({ tokenHash: `with ${read}` }),
        new Map(),
        () => Deferred.await(saved),
        () => Effect.suspend(() => (++reads === 1 ? Effect.fail(new SqlError({ cause: new Error("timeout acquiring a connection"), message: "Failed to acquire connection" })) : Effect.succeed("the rows")))
      )
      expect(yield* settle(() => reads > 0)).toBe(true)
      yield* Deferred.succeed(saved, undefined)
      expect(yield* settle(() => received.length > 0)).toBe(true)
      expect(received).toMatchObject([{ type: "apply.done", output: { tokenHash: "with the rows" } }])
      expect(reads).toBe(2)
    })
  )

  it.scoped("an early read that failed other than on the database (GatewayNotFound) fails the step as it is, with no second read", () =>
    Effect.gen(function* () {
      const saved = yield* Deferred.make<void>()
      let reads = 0
      let programs = 0
      // The gateway row is missing: a second read would find it missing too.
      const { received } = yield* runBridge(
        (_input: { agentId: string }, read?: string) => Effect.sync(() => (programs++, { tokenHash: `with ${read}` })),
        new Map(),
        () => Deferred.await(saved),
        () => Effect.suspend(() => (++reads === 1 ? Effect.fail(new GatewayNotFound({ gatewayId: "g1" })) : Effect.succeed("the rows")))
      )
      expect(yield* settle(() => reads > 0)).toBe(true)
      yield* Deferred.succeed(saved, undefined)
      expect(yield* settle(() => received.length > 0)).toBe(true)
      expect(received).toMatchObject([{ type: "apply.failed", error: { tag: "GatewayNotFound" } }])
      expect(reads).toBe(1)
      expect(programs).toBe(0)
    })
  )

  it.scoped("a program's reads log with its agent's annotations, as the program does", () => {
    const lines: Array<{ message: unknown; agentId: unknown }> = []
    const capture = Logger.make(({ message, annotations }) => void lines.push({ message, agentId: HashMap.get(annotations, "agent_id").pipe((found) => (found._tag === "Some" ? found.value : undefined)) }))
    return Effect.gen(function* () {
      const { received } = yield* runBridge(
        () => Effect.as(Effect.logInfo("program"), { tokenHash: "h" }),
        new Map(),
        () => Effect.void,
        () => Effect.as(Effect.logInfo("read"), "rows")
      )
      expect(yield* settle(() => received.length > 0)).toBe(true)
      expect(lines).toEqual([
        { message: ["read"], agentId: "a1" },
        { message: ["program"], agentId: "a1" }
      ])
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
  })
})
