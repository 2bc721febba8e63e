import { Effect, Option, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { AGENT_MACHINE_VERSION, agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentExternalEvent, AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { describeFailure, makeActorSupervisor } from "../../src/agents/actorSupervisor.ts"
import { agentDeadlines } from "../../src/agents/agentDeadlines.ts"
import { stopAgentActor } from "../../src/agents/agentActorSystem.ts"
import { makeRowRestorer } from "../../src/agents/restoreRows.ts"
import { makeActorStarter, type AgentEntry } from "../../src/agents/startAgentActor.ts"
import type { StoredSnapshot } from "../../src/store/AgentRepo.ts"
import { LIVENESS_LIMITS, onlineSnapshotTemplate } from "./onlineFleet.ts"

const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS } satisfies AgentPolicy

const id = "00000000-0000-4000-8000-000000000001"

/** One online agent of gateway `gw`, as stored. */
const storedRow = (): StoredSnapshot => {
  const text = onlineSnapshotTemplate(policy, Date.now()).replaceAll("__ID__", id).replaceAll("__GATEWAY__", "gw").replaceAll("__BOARD__", "board").replaceAll("__NAME__", "a").replaceAll("__TOKEN_HASH__", "h")
  return { id, snapshot: JSON.parse(text) as unknown, machineVersion: AGENT_MACHINE_VERSION, version: "1" }
}

/** A conversion without its identity: the machine's `isNewIdentity` guard throws, and XState stops the actor in status "error". */
const poison = { type: "agent.convert", at: 1 } as unknown as AgentExternalEvent

/** The real starter and row restorer with the supervisor (2 restarts a minute, 1 ms backoff); `stored` is what a read of the row answers. */
const harness = (windowMs = 60_000) => {
  const entries = new Map<string, AgentEntry>()
  const hosting = new Set(["gw"])
  const creating = { count: 0 }
  let stored: Option.Option<StoredSnapshot> = Option.some(storedRow())
  const deadlines = agentDeadlines({ now: () => Date.now(), setTimer: () => undefined, clearTimer: () => {} })
  const runFork = (effect: Effect.Effect<void, never, never>) => Effect.runFork(effect)
  const supervisor = makeActorSupervisor({
    entries,
    hosting,
    creatingFor: (_gatewayId, delta) => void (creating.count += delta),
    closeWithinMs: 1_000,
    readRow: () => Effect.sync(() => stored),
    restoreRow: (gatewayId, row) => restorer.restoreRow(gatewayId, row),
    runFork: runFork as never,
    budget: { maxRestarts: 2, windowMs, backoffMs: 1 }
  })
  const starter = makeActorStarter({ entries, persist: () => {}, runFork: runFork as never, transitionsKeepPerAgent: 10, deadlines, onFailed: supervisor.onFailed })
  const restorer = makeRowRestorer({ logic: agentMachine, starter, failures: new Map(), policy: () => policy, readPage: () => Effect.succeed([]) })
  const actorOf = () => entries.get(id)?.actor
  /** Waits until the agent's actor runs again (a restart ended), and answers it. */
  const restarted = async () => {
    await expect.poll(() => actorOf()?.getSnapshot().status, { timeout: 5_000, interval: 5 }).toBe("active")
    await expect.poll(() => creating.count, { timeout: 5_000, interval: 5 }).toBe(0)
    return actorOf()!
  }
  const stop = () => {
    for (const entry of entries.values()) stopAgentActor(entry.actor)
  }
  const deleteRow = () => void (stored = Option.none())
  const storeRow = (row: StoredSnapshot) => void (stored = Option.some(row))
  return { entries, hosting, creating, supervisor, restorer, actorOf, restarted, deleteRow, storeRow, stop }
}

describe("supervision of failed agent actors (docs/architecture.md §6.8)", () => {
  it("drops the failed actor at once, answers actor-restarting meanwhile, and restarts the agent from its row", async () => {
    const { supervisor, restorer, actorOf, restarted, creating, stop } = harness()
    await Effect.runPromise(restorer.restoreRow("gw", storedRow()))
    const first = actorOf()!
    first.send(poison)
    expect(first.getSnapshot().status).toBe("error")
    expect(actorOf()).toBeUndefined()
    expect(creating.count).toBe(1)
    expect(supervisor.refusal(id)).toMatchObject({ _tag: "AgentsRestoring", agentId: id, reason: "actor-restarting" })
    const second = await restarted()
    expect(second).not.toBe(first)
    expect(supervisor.refusal(id)).toBeUndefined()
    second.send({ type: "agent.heartbeat", at: 777 })
    expect(second.getSnapshot().context.lastSeenAt).toBe(777)
    stop()
  })

  it("past its budget the agent is not restarted and answers actor-failed, until its gateway is hosted afresh", async () => {
    const { supervisor, restorer, actorOf, restarted, creating, stop } = harness()
    await Effect.runPromise(restorer.restoreRow("gw", storedRow()))
    actorOf()!.send(poison)
    ;(await restarted()).send(poison)
    ;(await restarted()).send(poison)
    expect(actorOf()).toBeUndefined()
    // No restart: only the dead actor's save counts as a create for the gateway, until it ends.
    expect(creating.count).toBe(1)
    await expect.poll(() => creating.count, { timeout: 5_000, interval: 5 }).toBe(0)
    expect(supervisor.refusal(id)).toMatchObject({ _tag: "AgentsRestoring", reason: "actor-failed" })
    supervisor.forgetGateway("gw")
    expect(supervisor.refusal(id)).toBeUndefined()
    stop()
  })

  it("does not restart an agent whose gateway left, nor one whose row was deleted meanwhile", async () => {
    const left = harness()
    await Effect.runPromise(left.restorer.restoreRow("gw", storedRow()))
    left.hosting.delete("gw")
    left.actorOf()!.send(poison)
    expect(left.actorOf()).toBeUndefined()
    // Its save counts as a create: the leaving gateway waits for it.
    expect(left.creating.count).toBe(1)
    await expect.poll(() => left.creating.count, { timeout: 5_000, interval: 5 }).toBe(0)
    expect(left.supervisor.refusal(id)).toBeUndefined()

    const deleted = harness()
    await Effect.runPromise(deleted.restorer.restoreRow("gw", storedRow()))
    deleted.deleteRow()
    deleted.actorOf()!.send(poison)
    expect(deleted.supervisor.refusal(id)).toMatchObject({ reason: "actor-restarting" })
    await expect.poll(() => deleted.creating.count, { timeout: 5_000, interval: 5 }).toBe(0)
    expect(deleted.actorOf()).toBeUndefined()
    // A deleted agent is not found (404), not restarting.
    expect(deleted.supervisor.refusal(id)).toBeUndefined()
  })

  it("an agent whose stored row cannot be restarted from stays a 503 actor-failed, never a 404, while its gateway is hosted", async () => {
    const { supervisor, restorer, actorOf, creating, storeRow } = harness()
    await Effect.runPromise(restorer.restoreRow("gw", storedRow()))
    storeRow({ ...storedRow(), machineVersion: "999999" })
    actorOf()!.send(poison)
    await expect.poll(() => creating.count, { timeout: 5_000, interval: 5 }).toBe(0)
    expect(actorOf()).toBeUndefined()
    expect(supervisor.refusal(id)).toMatchObject({ _tag: "AgentsRestoring", agentId: id, reason: "actor-failed" })
  })

  it("logs a failure by its tag and its own message, never a tagged error's fields", () => {
    class Leaky extends Schema.TaggedError<Leaky>()("Leaky", { token: Schema.String }) {}
    expect(describeFailure(new Leaky({ token: "s3cr3t" }))).toBe("Leaky")
    expect(describeFailure(new Error("guard threw"))).toBe("Error: guard threw")
  })

  it("a window after giving up, a request gets the agent one more restart (what Retry-After 60 promises)", async () => {
    const { supervisor, restorer, actorOf, restarted, creating, stop } = harness(300)
    await Effect.runPromise(restorer.restoreRow("gw", storedRow()))
    actorOf()!.send(poison)
    ;(await restarted()).send(poison)
    ;(await restarted()).send(poison)
    expect(supervisor.refusal(id)).toMatchObject({ reason: "actor-failed" })
    await expect.poll(() => supervisor.refusal(id)?.reason, { timeout: 5_000, interval: 20 }).toBe("actor-restarting")
    expect(creating.count).toBe(1)
    const again = await restarted()
    expect(again.getSnapshot().status).toBe("active")
    expect(supervisor.refusal(id)).toBeUndefined()
    // That one restart is all: failing again within the window, it gives up at once.
    again.send(poison)
    expect(actorOf()).toBeUndefined()
    expect(supervisor.refusal(id)).toMatchObject({ reason: "actor-failed" })
    stop()
  })
})
