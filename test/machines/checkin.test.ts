import { describe, expect, it } from "vitest"
import { CHECKIN_EXTENSION_FACTOR } from "../../machines/agent/checkin.ts"
import { makeHarness, policy } from "./agentHarness.ts"

const run = (h: ReturnType<typeof makeHarness>, runId: string) =>
  h.send({ type: "gateway.run.started", at: h.now(), source: "agent", runId, heartbeat: false })

describe("the check-in window after a wake", () => {
  it("an agent whose runs keep starting and failing still ends 'did not check in' after its wakes", () => {
    const h = makeHarness()
    h.advance(20)
    expect(h.state()).toBe('{"provisioning":"awaiting"}')
    // A run starts (and fails) every 10 s, for ten minutes, and the agent never curls back.
    for (let second = 0; second < 600 && h.state() !== '"offline"'; second += 10) {
      run(h, `r${second}`)
      h.send({ type: "gateway.run.ended", at: h.now(), source: "agent", runId: `r${second}`, heartbeat: false, outcome: "error", failure: "model auth missing" })
      h.advance(10_000)
    }
    expect(h.state()).toBe('"offline"')
    expect(h.calls.wake).toBe(policy.maxWakeAttempts)
    expect(h.context().offlineReason).toBe(`did not check in after wake (${policy.maxWakeAttempts} wakes)`)
    expect(h.context().liveness?.offlineCause).toBe("no_checkin")
    // The runs were still recorded as the agent's activity.
    expect(h.context().liveness?.lastRun).toMatchObject({ outcome: "error", error: "model auth missing" })
  })

  it("a run extends the window to a full one from its start, never past the limit from the wake", () => {
    const h = makeHarness()
    h.advance(20)
    const wokeAt = h.now()
    const limit = wokeAt + CHECKIN_EXTENSION_FACTOR * policy.checkinTimeoutMs
    expect(h.context().checkinLimit).toBe(limit)
    h.advance(20_000)
    run(h, "early")
    expect(h.context().deadline).toBe(h.now() + policy.checkinTimeoutMs)
    h.advance(20_000)
    run(h, "late")
    expect(h.context().deadline).toBe(limit)
    h.advance(limit - h.now() - 5)
    run(h, "too-late")
    expect(h.context().deadline).toBe(limit)
    expect(h.state()).toBe('{"provisioning":"awaiting"}')
    h.advance(5)
    // The limit reached: the next wake, with a window (and limit) of its own.
    expect(h.state()).toBe('{"provisioning":"waking"}')
    h.advance(10)
    expect(h.context().checkinLimit).toBe(h.now() + CHECKIN_EXTENSION_FACTOR * policy.checkinTimeoutMs)
  })

  it("an agent restored from a snapshot without a limit keeps its deadline: runs do not extend it", () => {
    const first = makeHarness()
    first.advance(20)
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as { context: Record<string, unknown> }
    delete persisted.context["checkinLimit"]
    const deadline = first.context().deadline
    first.actor.stop()
    const h = makeHarness({ snapshot: persisted as never, start: first.now() + 1_000 })
    expect(h.state()).toBe('{"provisioning":"awaiting"}')
    run(h, "after-restore")
    expect(h.context().deadline).toBe(deadline)
    expect(h.context().liveness?.lastRun?.runId).toBe("after-restore")
  })
})
