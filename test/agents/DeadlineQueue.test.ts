import { createActor, setup, type Snapshot } from "xstate"
import { describe, expect, it } from "vitest"
import type { AgentEvent } from "../../machines/agent/agentTypes.ts"
import { TIMED } from "../../machines/agent/pendingDeadline.ts"
import { agentDeadlines, armDeadline, type DeadlineHolder } from "../../src/agents/agentDeadlines.ts"
import { DeadlineQueue, type DeadlineClock } from "../../src/agents/DeadlineQueue.ts"

/** A hand-driven clock that counts the timers it holds. */
const manualClock = (start = 1_000_000) => {
  let now = start
  const timers = new Map<number, { at: number; run: () => void }>()
  let ids = 0
  const clock: DeadlineClock = {
    now: () => now,
    setTimer: (run, delayMs) => {
      const id = ++ids
      timers.set(id, { at: now + delayMs, run })
      return id
    },
    clearTimer: (timer) => void timers.delete(timer as number)
  }
  /** Moves time to `to`, running every timer due on the way, in order. */
  const advanceTo = (to: number) => {
    for (;;) {
      const next = [...timers.entries()].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at)[0]
      if (next === undefined) break
      timers.delete(next[0])
      now = Math.max(now, next[1].at)
      next[1].run()
    }
    now = to
  }
  return { clock, advanceTo, timers, now: () => now }
}

describe("DeadlineQueue", () => {
  it("fires deadlines at their instants, in order, with one timer for all of them", () => {
    const { clock, advanceTo, timers } = manualClock()
    const queue = new DeadlineQueue(clock)
    const fired: Array<string> = []
    for (const [name, at] of [["c", 1_030_000], ["a", 1_010_000], ["b", 1_020_000], ["a2", 1_010_000]] as const) {
      queue.add(at, () => fired.push(name))
    }
    expect(queue.size).toBe(4)
    expect(timers.size).toBe(1)
    advanceTo(1_009_999)
    expect(fired).toEqual([])
    advanceTo(1_010_000)
    expect(fired).toEqual(["a", "a2"])
    advanceTo(1_025_000)
    expect(fired).toEqual(["a", "a2", "b"])
    advanceTo(1_030_000)
    expect(fired).toEqual(["a", "a2", "b", "c"])
    expect(queue.size).toBe(0)
  })

  it("holds one timer for 100,000 deadlines", () => {
    const { clock, timers } = manualClock()
    const queue = new DeadlineQueue(clock)
    for (let i = 0; i < 100_000; i++) queue.add(1_000_000 + 60_000 + ((i * 7919) % 600_000), () => {})
    expect(queue.size).toBe(100_000)
    expect(timers.size).toBe(1)
  })

  it("a cancelled deadline never fires; the others still do", () => {
    const { clock, advanceTo } = manualClock()
    const queue = new DeadlineQueue(clock)
    const fired: Array<string> = []
    const cancelFirst = queue.add(1_001_000, () => fired.push("first"))
    queue.add(1_002_000, () => fired.push("second"))
    cancelFirst()
    cancelFirst()
    expect(queue.size).toBe(1)
    advanceTo(1_005_000)
    expect(fired).toEqual(["second"])
  })

  it("a deadline already past fires on the next timer turn, not inside add", () => {
    const { clock, advanceTo, now } = manualClock()
    const queue = new DeadlineQueue(clock)
    const fired: Array<number> = []
    queue.add(now() - 60_000, () => fired.push(now()))
    expect(fired).toEqual([])
    advanceTo(now())
    expect(fired).toEqual([1_000_000])
  })

  it("an earlier deadline added later re-aims the timer", () => {
    const { clock, advanceTo } = manualClock()
    const queue = new DeadlineQueue(clock)
    const fired: Array<string> = []
    queue.add(1_100_000, () => fired.push("late"))
    queue.add(1_001_000, () => fired.push("early"))
    advanceTo(1_001_000)
    expect(fired).toEqual(["early"])
  })

  it("a deadline beyond setTimeout's ~24.8-day limit fires at its instant, not early", () => {
    const { clock, advanceTo } = manualClock()
    const queue = new DeadlineQueue(clock)
    const at = 1_000_000 + 40 * 24 * 3_600_000
    const fired: Array<string> = []
    queue.add(at, () => fired.push("far"))
    advanceTo(at - 1)
    expect(fired).toEqual([])
    advanceTo(at)
    expect(fired).toEqual(["far"])
  })

  it("a deadline that cancels another due at the same turn stops it firing", () => {
    const { clock, advanceTo } = manualClock()
    const queue = new DeadlineQueue(clock)
    const fired: Array<string> = []
    let cancelSecond = () => {}
    queue.add(1_001_000, () => {
      fired.push("first")
      cancelSecond()
    })
    cancelSecond = queue.add(1_001_000, () => fired.push("second"))
    advanceTo(1_001_000)
    expect(fired).toEqual(["first"])
  })
})

describe("agentDeadlines (the host arms the deadline a timed state waits for)", () => {
  const machine = setup({
    types: { context: {} as { deadline: number | null }, events: {} as AgentEvent | { type: "leave" } | { type: "again" } | { type: "back" }, input: {} as { deadline: number } }
  }).createMachine({
    context: ({ input }) => ({ deadline: input.deadline }),
    initial: "waiting",
    states: {
      waiting: { tags: [TIMED], on: { "deadline.reached": "reached", leave: "elsewhere", again: { target: "waiting", reenter: true } } },
      reached: { on: { back: "waiting" } },
      elsewhere: {}
    }
  })
  /** An actor armed after every snapshot, as startAgentActor arms an agent's. */
  const hosted = (queue: ReturnType<typeof agentDeadlines>, snapshot?: Snapshot<unknown>) => {
    const actor = createActor(machine, { input: { deadline: 1_030_000 }, ...(snapshot === undefined ? {} : { snapshot }) })
    const holder: DeadlineHolder = { actor, deadline: undefined }
    actor.system.inspect((inspection) => {
      if (inspection.type === "@xstate.snapshot" && inspection.actorRef === actor) armDeadline(queue, holder)
    })
    return actor.start()
  }

  it("sends deadline.reached at the absolute instant, stamped with the queue's clock", () => {
    const { clock, advanceTo } = manualClock()
    const queue = agentDeadlines(clock)
    const actor = hosted(queue)
    const events: Array<unknown> = []
    actor.system.inspect((inspection) => inspection.type === "@xstate.event" && inspection.event.type === "deadline.reached" && events.push(inspection.event))
    advanceTo(1_029_999)
    expect(actor.getSnapshot().value).toBe("waiting")
    advanceTo(1_030_000)
    expect(actor.getSnapshot().value).toBe("reached")
    expect(events).toEqual([{ type: "deadline.reached", at: 1_030_000 }])
  })

  it("a state left cancels the deadline, and a stopped actor holds none", () => {
    const { clock, advanceTo } = manualClock()
    const queue = agentDeadlines(clock)
    const actor = hosted(queue)
    actor.send({ type: "leave" })
    expect(queue.size).toBe(0)
    advanceTo(1_060_000)
    expect(actor.getSnapshot().value).toBe("elsewhere")
    const stopped = hosted(queue)
    expect(queue.size).toBe(1)
    stopped.stop()
    expect(queue.size).toBe(0)
  })

  it("a state re-entered keeps its deadline; one that fired is armed again for a state that waits for the same instant", () => {
    const { clock, advanceTo, timers } = manualClock()
    const queue = agentDeadlines(clock)
    const actor = hosted(queue)
    actor.send({ type: "again" })
    expect(queue.size).toBe(1)
    advanceTo(1_030_000)
    expect(actor.getSnapshot().value).toBe("reached")
    expect(queue.size).toBe(0)
    // Back in `waiting`, whose instant has passed: due at once, on the next timer turn.
    actor.send({ type: "back" })
    expect(actor.getSnapshot().value).toBe("waiting")
    expect(queue.size).toBe(1)
    expect(timers.size).toBe(1)
    advanceTo(1_030_000)
    expect(actor.getSnapshot().value).toBe("reached")
  })

  it("a restored actor re-arms its deadline and fires on time, or at once when it passed while down", () => {
    const { clock, advanceTo, now } = manualClock()
    const first = agentDeadlines(clock)
    const before = hosted(first)
    const persisted = before.getPersistedSnapshot()
    before.stop()
    expect(first.size).toBe(0)

    const onTime = agentDeadlines(clock)
    const restored = hosted(onTime, persisted)
    expect(onTime.size).toBe(1)
    advanceTo(1_030_000)
    expect(restored.getSnapshot().value).toBe("reached")

    const late = agentDeadlines(clock)
    const overdue = hosted(late, persisted)
    expect(overdue.getSnapshot().value).toBe("waiting")
    advanceTo(now())
    expect(overdue.getSnapshot().value).toBe("reached")
  })
})
