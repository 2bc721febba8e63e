import { Effect, Logger } from "effect"
import { describe, expect, it } from "vitest"
import { type AnyActorRef, fromCallback } from "xstate"
import { agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentEvent, AgentInput, AgentPolicy, RemoveInput } from "../../machines/agent/agentTypes.ts"
import { stopAgentActor } from "../../src/agents/agentActorSystem.ts"
import { SnapshotTagsShared } from "../../src/agents/shareSnapshotParts.ts"
import { agentDeadlines } from "../../src/agents/agentDeadlines.ts"
import { makeActorStarter, type AgentEntry } from "../../src/agents/startAgentActor.ts"
import { LIVENESS_LIMITS, onlineSnapshotTemplate } from "./onlineFleet.ts"

const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS } satisfies AgentPolicy

/** A starter whose writers never write (`offered` lists the agents whose writer was handed a write) and whose logs land in `logs`. */
const harness = () => {
  const entries = new Map<string, AgentEntry>()
  const offered: Array<string> = []
  const logs: Array<string> = []
  const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logs.push((Array.isArray(message) ? message : [message]).map(String).join(" "))))
  const deadlines = agentDeadlines({ now: () => Date.now(), setTimer: () => undefined, clearTimer: () => {} })
  const starter = makeActorStarter({
    entries,
    persist: (_write, agentId) => void offered.push(agentId),
    runFork: (effect) => Effect.runFork(effect.pipe(Effect.provide(capture))),
    transitionsKeepPerAgent: 10,
    deadlines
  })
  const template = onlineSnapshotTemplate(policy, Date.now())
  /** Restores stored online agent `i` (or `snapshot` in its place), running `logic`. */
  const restore = (i: number, snapshot?: unknown, logic: typeof agentMachine = agentMachine) => {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`
    const text = template.replaceAll("__ID__", id).replaceAll("__GATEWAY__", "gw").replaceAll("__BOARD__", "board").replaceAll("__NAME__", `a${i}`).replaceAll("__TOKEN_HASH__", "h")
    const stored = snapshot ?? (JSON.parse(text) as { context: AgentInput })
    const actor = starter.create(logic, id, { snapshot: stored, input: (JSON.parse(text) as { context: AgentInput }).context })
    return starter.start(id, "gw", actor, 1, stored)
  }
  return { entries, offered, logs, deadlines, starter, restore }
}

describe("agent actors share one XState actor system per starter", () => {
  it("every agent of a starter is in one system (another starter's in another), and a snapshot reaches only its own agent's writer", () => {
    const { offered, restore } = harness()
    const agents = [restore(0), restore(1), restore(2)]
    const other = harness().restore(0)

    expect(new Set(agents.map((entry) => entry.actor.system)).size).toBe(1)
    expect(other.actor.system).not.toBe(agents[0]!.actor.system)
    // Restored unchanged: nothing to write yet.
    expect(offered).toEqual([])
    const versions = agents.map((entry) => entry.writer.version)

    agents[1]!.actor.send({ type: "agent.heartbeat", at: Date.now() + 1_000 })

    expect(offered).toEqual([agents[1]!.actor.id])
    expect(agents.map((entry) => entry.writer.version)).toEqual([versions[0], versions[1]! + 1, versions[2]])
    for (const entry of [...agents, other]) stopAgentActor(entry.actor)
  })

  it("a stopped agent actor leaves the shared system's registry and the deadline queue", () => {
    const { deadlines, starter, restore } = harness()
    const probe = starter.create(agentMachine, "probe", { input: {} as AgentInput })
    // The system's registry is internal to XState: watch what enters and leaves it.
    const system = probe.system as unknown as { _register: (sessionId: string, actor: AnyActorRef) => string; _unregister: (actor: AnyActorRef) => void }
    const registered = new Set<string>()
    const register = system._register
    const unregister = system._unregister
    system._register = (sessionId, actor) => (registered.add(sessionId), register(sessionId, actor))
    system._unregister = (actor) => (registered.delete(actor.sessionId), unregister(actor))
    const agents = [restore(0), restore(1)]
    expect([...registered]).toEqual(agents.map((entry) => entry.actor.sessionId))
    expect(deadlines.size).toBe(2)

    for (const entry of agents) stopAgentActor(entry.actor)

    expect(agents.map((entry) => entry.actor.getSnapshot().status)).toEqual(["stopped", "stopped"])
    expect(registered.size).toBe(0)
    expect(deadlines.size).toBe(0)
    // Stopping again does nothing.
    stopAgentActor(agents[0]!.actor)
  })

  it("an agent actor that fails is logged, with its agent id, and the others run on", async () => {
    const { logs, restore } = harness()
    const healthy = restore(0)
    const broken = restore(1, { ...(JSON.parse(JSON.stringify(healthy.actor.getPersistedSnapshot())) as object), value: "no-such-state" })

    expect(broken.actor.getSnapshot().status).toBe("error")
    await expect.poll(() => logs).toEqual([expect.stringContaining(`agent ${broken.actor.id} actor failed`)])
    healthy.actor.send({ type: "agent.heartbeat", at: Date.now() + 1_000 })
    expect(healthy.actor.getSnapshot().status).toBe("active")
    stopAgentActor(healthy.actor)
  })

  it("an agent actor that fails while a program runs: the program is stopped (its cleanup runs) and leaves the shared system", async () => {
    const { logs, restore } = harness()
    const removals: Array<(event: AgentEvent) => void> = []
    let cleanedUp = 0
    const logic = agentMachine.provide({
      actors: { removeAgent: fromCallback<AgentEvent, RemoveInput>(({ sendBack }) => (removals.push(sendBack), () => void (cleanedUp += 1))) },
      guards: { canRetry: () => { throw new Error("a guard that throws") } }
    })
    const entry = restore(0, undefined, logic)
    entry.actor.send({ type: "agent.delete", at: Date.now() + 1_000 })
    const program = Object.values(entry.actor.getSnapshot().children)[0] as AnyActorRef
    expect(program.getSnapshot().status).toBe("active")

    removals[0]!({ type: "remove.failed", at: Date.now() + 2_000, error: { kind: "transient", message: "x" } } as unknown as AgentEvent)

    expect(entry.actor.getSnapshot().status).toBe("error")
    expect(cleanedUp).toBe(1)
    expect(program.getSnapshot().status).toBe("stopped")
    await expect.poll(() => logs).toEqual([expect.stringContaining(`agent ${entry.actor.id} actor failed`)])
    // Stopping the failed actor again does nothing more.
    stopAgentActor(entry.actor)
    expect(cleanedUp).toBe(1)
  })

  it("agents in equal states share one tag set, which still answers hasTag and refuses changes", () => {
    const { restore } = harness()
    const [first, second] = [restore(0), restore(1)]
    first.actor.send({ type: "agent.heartbeat", at: Date.now() + 1_000 })
    const [a, b] = [first.actor.getSnapshot(), second.actor.getSnapshot()]

    expect(a).not.toBe(b)
    expect(a.tags).toBe(b.tags)
    expect([...a.tags]).toEqual(a._nodes.flatMap((node) => node.tags))
    for (const tag of a.tags) expect(a.hasTag(tag)).toBe(true)
    expect(a.hasTag("busy")).toBe(false)
    expect(() => (a.tags as Set<string>).add("busy")).toThrow(SnapshotTagsShared)
    expect(a.hasTag("busy")).toBe(false)
    for (const entry of [first, second]) stopAgentActor(entry.actor)
  })

  it("the agent machine has no delayed transition: XState would not restore one in a child actor, and the deadline queue keeps time instead", () => {
    type Node = { readonly id: string; readonly after: ReadonlyArray<unknown>; readonly states: Record<string, Node> }
    const delayed = (node: Node): Array<string> => [...(node.after.length > 0 ? [node.id] : []), ...Object.values(node.states).flatMap(delayed)]
    expect(delayed(agentMachine.root as unknown as Node)).toEqual([])
  })

  it("an agent whose snapshots share empty children and history still invokes a program, stops it, and finishes: the root ignores its done event", async () => {
    const { entries, logs, restore } = harness()
    const removals: Array<(event: AgentEvent) => void> = []
    const logic = agentMachine.provide({ actors: { removeAgent: fromCallback<AgentEvent, RemoveInput>(({ sendBack }) => void removals.push(sendBack)) } })
    const entry = restore(0, undefined, logic)
    const other = restore(1)
    const idle = entry.actor.getSnapshot()
    expect(idle.children).toBe(other.actor.getSnapshot().children)
    expect(Object.isFrozen(idle.children) && Object.isFrozen(idle.historyValue)).toBe(true)

    entry.actor.send({ type: "agent.delete", at: Date.now() + 1_000 })
    expect(Object.keys(entry.actor.getSnapshot().children)).toHaveLength(1)
    removals[0]!({ type: "remove.done", at: Date.now() + 2_000 } as AgentEvent)

    const done = entry.actor.getSnapshot()
    expect(done.status).toBe("done")
    expect(done.value).toBe("deleted")
    expect(done.children).toBe(idle.children)
    // The finished actor stays until its final snapshot is saved (never, here), and nothing failed.
    expect(entries.get(entry.actor.id)).toBe(entry)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(logs).toEqual([])
    stopAgentActor(other.actor)
  })
})
