import { describe, expect, it } from "vitest"
import { MAX_ACTOR_RESTARTS, makeActorSupervisor, RESTART_WINDOW_MS } from "../../src/agents/actorSupervisor.ts"
import type { AgentEntry } from "../../src/agents/startAgentActor.ts"

/** A supervisor on a hand clock; `restarted` and `retired` list the agents handed to each. */
const harness = () => {
  const entries = new Map<string, AgentEntry>()
  const restarted: Array<string> = []
  const retired: Array<string> = []
  const clock = { now: 1_000_000 }
  const supervisor = makeActorSupervisor({
    entries,
    restart: (agentId) => void restarted.push(agentId),
    retire: (agentId) => void retired.push(agentId),
    now: () => clock.now
  })
  /** A fresh entry of `agentId` on `gatewayId` in `entries` (what a start or restart leaves). */
  const running = (agentId: string, gatewayId = "gw") => {
    const entry = { gatewayId } as AgentEntry
    entries.set(agentId, entry)
    return entry
  }
  return { entries, restarted, retired, clock, supervisor, running }
}

describe("the supervision of failed agent actors (docs/architecture.md §6.8)", () => {
  it("restarts a failed actor a few times a minute, then keeps it stopped with AgentActorFailed", () => {
    const { entries, restarted, retired, clock, supervisor, running } = harness()
    for (let i = 0; i < MAX_ACTOR_RESTARTS; i++) {
      supervisor.onFailed("a", running("a"), new Error("boom"))
      expect(entries.has("a")).toBe(false)
      clock.now += 1_000
    }
    expect(restarted).toEqual(Array(MAX_ACTOR_RESTARTS).fill("a"))
    expect(supervisor.failure("a")).toBeUndefined()

    supervisor.onFailed("a", running("a"), new Error("boom again"))

    expect(retired).toEqual(["a"])
    expect(entries.has("a")).toBe(false)
    expect(supervisor.failure("a")).toMatchObject({ _tag: "AgentActorFailed", agentId: "a", failures: MAX_ACTOR_RESTARTS + 1, lastError: "boom again" })
  })

  it("counts only the failures of the last minute", () => {
    const { restarted, clock, supervisor, running } = harness()
    for (let i = 0; i < 2 * MAX_ACTOR_RESTARTS; i++) {
      supervisor.onFailed("a", running("a"), new Error("boom"))
      clock.now += RESTART_WINDOW_MS / MAX_ACTOR_RESTARTS
    }
    expect(restarted).toHaveLength(2 * MAX_ACTOR_RESTARTS)
    expect(supervisor.failure("a")).toBeUndefined()
  })

  it("ignores the failure of an actor already replaced, and forgets a stopped agent when its gateway leaves", () => {
    const { restarted, retired, supervisor, running } = harness()
    const replaced = running("a")
    running("a")
    supervisor.onFailed("a", replaced, new Error("late"))
    expect(restarted).toEqual([])

    for (let i = 0; i <= MAX_ACTOR_RESTARTS; i++) supervisor.onFailed("b", running("b", "other"), new Error("boom"))
    expect(retired).toEqual(["b"])
    supervisor.forgetGateway("gw")
    expect(supervisor.failure("b")).toBeDefined()
    supervisor.forgetGateway("other")
    expect(supervisor.failure("b")).toBeUndefined()
  })
})
