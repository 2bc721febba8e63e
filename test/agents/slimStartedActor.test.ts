import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { waitFor } from "xstate"
import { AGENT_MACHINE_VERSION, agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { agentDeadlines } from "../../src/agents/agentDeadlines.ts"
import { makeRowRestorer } from "../../src/agents/restoreRows.ts"
import { AgentListenersUnsupported, AgentObserversUnsupported, observing } from "../../src/agents/slimStartedActor.ts"
import { stopAgentActor } from "../../src/agents/agentActorSystem.ts"
import { makeActorStarter, type AgentEntry } from "../../src/agents/startAgentActor.ts"
import type { StoredSnapshotAt } from "../../src/store/AgentRepo.ts"
import { LIVENESS_LIMITS, onlineSnapshotTemplate } from "./onlineFleet.ts"

const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS } satisfies AgentPolicy

/** Restores `count` stored online agents with the real actor starter; answers their entries. */
const restored = async (count: number) => {
  const template = onlineSnapshotTemplate(policy, Date.now())
  const rows: Array<StoredSnapshotAt> = Array.from({ length: count }, (_, i) => {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`
    const text = template.replaceAll("__ID__", id).replaceAll("__GATEWAY__", "gw").replaceAll("__BOARD__", "board").replaceAll("__NAME__", `a${i}`).replaceAll("__TOKEN_HASH__", "h")
    return { id, snapshot: JSON.parse(text) as unknown, machineVersion: AGENT_MACHINE_VERSION, version: "1", cursor: `${i}.${id}` }
  })
  const entries = new Map<string, AgentEntry>()
  const deadlines = agentDeadlines({ now: () => Date.now(), setTimer: () => undefined, clearTimer: () => {} })
  const starter = makeActorStarter({ entries, persist: () => {}, runFork: () => undefined, transitionsKeepPerAgent: 10, deadlines })
  const readPage = (_gatewayId: string, after: string | undefined) => Effect.succeed(after === undefined ? rows : [])
  const restorer = makeRowRestorer({ logic: agentMachine, starter, failures: new Map(), policy: () => policy, readPage }, 1_000)
  await Effect.runPromise(restorer.restoreGateway("gw", { after: undefined, restored: 0 }, Effect.void))
  return [...entries.values()]
}

/** XState's members that the slimming replaces (not in its public types). */
const parts = (entry: AgentEntry) => entry.actor as unknown as { readonly options: Record<string, unknown>; readonly eventListeners: Map<string, unknown>; readonly observers: Set<unknown> }

describe("a started agent actor keeps no per-agent copy of what it no longer needs", () => {
  it("restored actors share one options object, without the stored snapshot or input, and one empty listener map", async () => {
    const [first, second] = await restored(2)
    expect(parts(first!).options).toBe(parts(second!).options)
    expect(parts(first!).options["snapshot"]).toBeUndefined()
    expect(parts(first!).options["input"]).toBeUndefined()
    expect(parts(first!).eventListeners).toBe(parts(second!).eventListeners)
    expect(parts(first!).eventListeners.size).toBe(0)
    // One shared send method, not a bound function each; it still reaches the actor it is called on.
    expect(first!.actor.send).toBe(second!.actor.send)
    const at = Date.now() + 1_000
    second!.actor.send({ type: "agent.heartbeat", at })
    expect(second!.actor.getSnapshot().context.lastSeenAt).toBe(at)
    expect(first!.actor.getSnapshot().context.lastSeenAt).not.toBe(at)
    for (const entry of [first!, second!]) stopAgentActor(entry.actor)
  })

  it("a listener for emitted events is refused loudly rather than shared across agents, and the actors still run and stop", async () => {
    const [first, second] = await restored(2)
    expect(() => first!.actor.on("*", () => {})).toThrow(AgentListenersUnsupported)
    expect(parts(second!).eventListeners.size).toBe(0)
    const before = first!.actor.getSnapshot()
    first!.actor.send({ type: "agent.heartbeat", at: Date.now() } as never)
    expect(first!.actor.getSnapshot().status).toBe("active")
    expect(first!.actor.getSnapshot()).not.toBe(before)
    for (const entry of [first!, second!]) stopAgentActor(entry.actor)
    expect(first!.actor.getSnapshot().status).toBe("stopped")
  })

  it("agents share one empty observer set that refuses a subscriber; a wait inside observing gets a set of its own, shared again once it ends", async () => {
    const [first, second] = await restored(2)
    expect(parts(first!).observers).toBe(parts(second!).observers)
    expect(() => first!.actor.subscribe(() => {})).toThrow(AgentObserversUnsupported)
    const shared = parts(first!).observers

    const at = Date.now() + 1_000
    const waiting = observing(first!.actor, () => waitFor(first!.actor, (snapshot) => snapshot.context.lastSeenAt === at, { timeout: 1_000 }))
    expect(parts(first!).observers).not.toBe(shared)
    expect(parts(first!).observers.size).toBe(1)
    first!.actor.send({ type: "agent.heartbeat", at })
    const reached = await waiting

    expect(reached.context.lastSeenAt).toBe(at)
    expect(parts(first!).observers).toBe(shared)
    expect(shared.size).toBe(0)
    for (const entry of [first!, second!]) stopAgentActor(entry.actor)
  })

  it("a wait on an actor with an observer set of its own (not trimmed) leaves that set in place", async () => {
    const [first] = await restored(1)
    const own = new Set()
    ;(first!.actor as unknown as { observers: Set<unknown> }).observers = own
    await observing(first!.actor, async () => "waited")

    expect(parts(first!).observers).toBe(own)
    const subscription = first!.actor.subscribe(() => {})
    subscription.unsubscribe()
    stopAgentActor(first!.actor)
  })
})
