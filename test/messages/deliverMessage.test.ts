import { it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import { describe, expect } from "vitest"
import { AgentSystem, AgentsRestoring, AgentWaitTimeout, type AgentSystemShape } from "../../src/agents/AgentSystem.ts"
import { GatewayClient, type GatewayClientShape } from "../../src/gateway/GatewayClient.ts"
import { GatewayConnectionError, GatewayRpcError } from "../../src/gateway/GatewayError.ts"
import { deliverMessage } from "../../src/messages/deliverMessage.ts"
import { ActivityRepo, type ActivityEntry, type ActivityRepoShape } from "../../src/store/ActivityRepo.ts"
import { AgentRepo, type AgentRepoShape, type AgentRow } from "../../src/store/AgentRepo.ts"
import { GatewayRepo, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import { MessageRepo, type MessageRepoShape, type MessageRow } from "../../src/store/MessageRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

const AGENT = { id: "a-1", name: "Ava", gatewayId: "g-1", boardId: "b-1", sessionKey: "agent:mc-a-1:main", statePath: "online" } as AgentRow
const OPTIONS = { readyTimeoutMs: 60_000, callTimeoutMs: 5_000 }

const pending = (kind = "nudge"): MessageRow => ({
  id: "m-1",
  targetAgentId: AGENT.id,
  senderKind: "agent",
  senderAgentId: "lead-1",
  kind,
  channel: "gateway",
  body: "wake up",
  deliver: true,
  idempotencyKey: "k",
  status: "pending",
  attempts: 0,
  lastError: null,
  leaseExpiresAt: null,
  replyTo: null,
  result: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  deliveredAt: null
})

const unavailable = new GatewayRpcError({ method: "chat.send", code: "UNAVAILABLE", kind: "unavailable", message: "busy", retryable: true })

/**
 * One message over in-memory fakes: `answers` are what successive `chat.send` calls get (the
 * last one repeats); `ready` is whether the target is provisioned. Returns the layer and what it saw.
 */
const harness = (answers: ReadonlyArray<GatewayRpcError | GatewayConnectionError | "ok">, ready = true, refusal?: AgentsRestoring) => {
  let row = pending()
  const waits = { count: 0 }
  const sends: Array<Record<string, unknown>> = []
  // The gateway's url as each read of its row finds it: a send answered `retargeted` was overtaken by a PATCH to a new url.
  let gatewayUrl = "ws://127.0.0.1:1"
  const sentTo: Array<string> = []
  const activity: Array<ActivityEntry> = []
  const settle = (changes: Partial<MessageRow>) =>
    Effect.sync(() => {
      if (row.status !== "pending") return Option.none()
      row = { ...row, ...changes }
      return Option.some(row)
    })
  const layer = Layer.mergeAll(
    Layer.succeed(
      MessageRepo,
      dieOnUnstubbed<MessageRepoShape>("MessageRepo", {
        recordAttempt: () => Effect.sync(() => void (row = { ...row, attempts: row.attempts + 1 })),
        recordError: (_id, error) => Effect.sync(() => void (row = { ...row, lastError: error })),
        markDelivered: () => settle({ status: "delivered", lastError: null, deliveredAt: new Date(0) }),
        markFailed: (_id, reason) => settle({ status: "failed", lastError: reason })
      })
    ),
    Layer.succeed(AgentRepo, dieOnUnstubbed<AgentRepoShape>("AgentRepo", { get: () => Effect.succeed(Option.some({ ...AGENT, snapshot: null })) })),
    Layer.succeed(
      AgentSystem,
      dieOnUnstubbed<AgentSystemShape>("AgentSystem", {
        waitFor: (agentId, _predicate, timeoutMs) =>
          Effect.suspend((): Effect.Effect<never, AgentWaitTimeout | AgentsRestoring> => {
            waits.count += 1
            if (refusal !== undefined) return Effect.fail(refusal)
            return ready ? Effect.succeed(undefined as never) : Effect.fail(new AgentWaitTimeout({ agentId, timeoutMs, statePath: "provisioning.retrying" }))
          })
      })
    ),
    Layer.succeed(
      GatewayRepo,
      dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", {
        get: (id) => Effect.sync(() => Option.some({ id, name: id, url: gatewayUrl, token: Redacted.make("t"), workspaceRoot: "/srv", deletingAt: null, createdAt: new Date(0), updatedAt: new Date(0) })),
        // What the pinned load (`loadPinnedGateway`) reads.
        getShared: (id) => Effect.sync(() => Option.some({ id, name: id, url: gatewayUrl, token: Redacted.make("t"), workspaceRoot: "/srv", deletingAt: null, createdAt: new Date(0), updatedAt: new Date(0) }))
      })
    ),
    Layer.succeed(
      GatewayClient,
      dieOnUnstubbed<GatewayClientShape>("GatewayClient", {
        generation: () => Effect.succeed(0),
        call: ((target: { url: string }, _method: string, params: Record<string, unknown>) => {
          sends.push(params)
          sentTo.push(target.url)
          const answer = answers[Math.min(sends.length, answers.length) - 1]!
          if (answer !== "ok" && answer._tag === "GatewayConnectionError" && answer.reason === "retargeted") gatewayUrl = `ws://127.0.0.1:${sends.length + 1}`
          return answer === "ok" ? Effect.succeed({ runId: String(params["idempotencyKey"]), status: "started" }) : Effect.fail(answer)
        }) as GatewayClientShape["call"]
      })
    ),
    Layer.succeed(ActivityRepo, dieOnUnstubbed<ActivityRepoShape>("ActivityRepo", { record: (entry) => Effect.sync(() => void activity.push(entry)) }))
  )
  return { layer, sends, sentTo, activity, waits, row: () => row }
}

/** Runs the delivery while the test clock moves on by `seconds`, a second at a time. */
const deliverOver = (seconds: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(deliverMessage(pending(), OPTIONS))
    for (let i = 0; i < seconds; i++) yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })

describe("deliverMessage (the ledger's gateway delivery)", () => {
  it.effect("retries transient refusals under one idempotency key, counts each attempt, and records the nudge as sent", () => {
    const { layer, sends, activity, row } = harness([unavailable, unavailable, "ok"])
    return Effect.gen(function* () {
      yield* deliverOver(10)
      expect(row()).toMatchObject({ status: "delivered", attempts: 3, lastError: null })
      expect(sends.map((params) => params["idempotencyKey"])).toEqual(["msg-m-1", "msg-m-1", "msg-m-1"])
      expect(sends[0]).toMatchObject({ sessionKey: AGENT.sessionKey, message: "wake up", deliver: true })
      expect(activity).toEqual([{ eventType: "agent.nudge.sent", message: "Nudge sent to Ava.", agentId: "lead-1", boardId: "b-1", gatewayId: "g-1" }])
    }).pipe(Effect.provide(layer))
  })

  it.effect("gives up 45 s into transient refusals, failing with the last reason", () => {
    const { layer, sends, activity, row } = harness([unavailable])
    return Effect.gen(function* () {
      yield* deliverOver(90)
      expect(row()).toMatchObject({ status: "failed", lastError: "chat.send: UNAVAILABLE busy" })
      expect(sends.length).toBeGreaterThan(3)
      expect(row().attempts).toBe(sends.length)
      expect(activity.map((entry) => entry.eventType)).toEqual(["agent.nudge.failed"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("retries a send the gateway's PATCH overtook (retargeted) on the target read anew, under the same key", () => {
    const retargeted = new GatewayConnectionError({ reason: "retargeted", message: "connection dropped: the gateway was retargeted", retryable: false })
    const { layer, sends, sentTo, row } = harness([retargeted, "ok"])
    return Effect.gen(function* () {
      yield* deliverOver(5)
      expect(row()).toMatchObject({ status: "delivered", attempts: 2 })
      expect(sentTo).toEqual(["ws://127.0.0.1:1", "ws://127.0.0.1:2"])
      expect(sends.map((params) => params["idempotencyKey"])).toEqual(["msg-m-1", "msg-m-1"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("fails at once on a terminal refusal", () => {
    const refused = new GatewayRpcError({ method: "chat.send", code: "INVALID_REQUEST", kind: "invalid_request", message: "no", retryable: false })
    const { layer, sends, row } = harness([refused])
    return Effect.gen(function* () {
      yield* deliverOver(1)
      expect(row()).toMatchObject({ status: "failed", attempts: 1, lastError: "chat.send: INVALID_REQUEST no" })
      expect(sends).toHaveLength(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("counts a replay whose first run failed (chat_run_failed) as delivered", () => {
    const runFailed = new GatewayRpcError({ method: "chat.send", code: "UNAVAILABLE", kind: "chat_run_failed", message: "no model", retryable: false })
    const { layer, row } = harness([runFailed])
    return Effect.gen(function* () {
      yield* deliverOver(1)
      expect(row()).toMatchObject({ status: "delivered", attempts: 1 })
    }).pipe(Effect.provide(layer))
  })

  it.effect("does not send to a target that is not provisioned in time, and says so", () => {
    const { layer, sends, row } = harness(["ok"], false)
    return Effect.gen(function* () {
      yield* deliverOver(1)
      expect(sends).toEqual([])
      expect(row()).toMatchObject({ status: "failed", attempts: 0, lastError: "agent Ava was not provisioned on its gateway within 60000 ms (it is provisioning.retrying)" })
    }).pipe(Effect.provide(layer))
  })

  it.effect("fails at once, naming why, for a target whose actor failed past its restart budget (no 2 min of asking again)", () => {
    const { layer, sends, waits, row } = harness(["ok"], true, new AgentsRestoring({ agentId: AGENT.id, reason: "actor-failed" }))
    return Effect.gen(function* () {
      yield* deliverOver(5)
      expect(sends).toEqual([])
      expect(waits.count).toBe(1)
      expect(row()).toMatchObject({ status: "failed", attempts: 0, lastError: "the agent's actor failed past its restart budget and is stopped" })
    }).pipe(Effect.provide(layer))
  })
})
