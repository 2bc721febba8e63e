import { describe, expect, it } from "vitest"
import { makeHarness, terminalError, transientError } from "./agentHarness.ts"

describe("agentMachine", () => {
  it("provisions: applying → waking → awaiting → online on the first heartbeat", () => {
    const h = makeHarness()
    expect(h.state()).toBe('{"provisioning":"applying"}')
    h.advance(10)
    expect(h.state()).toBe('{"provisioning":"waking"}')
    expect(h.context().tokenHash).toBe("h".repeat(64))
    h.advance(10)
    expect(h.state()).toBe('{"provisioning":"awaiting"}')
    expect(h.context().deadline).toBe(h.now() + 30_000)
    h.send({ type: "agent.heartbeat", at: h.now(), status: "ready" })
    expect(h.state()).toBe('"online"')
    expect(h.context()).toMatchObject({ lastSeenAt: h.now(), reportedStatus: "ready", wakeAttempts: 0 })
    expect(h.actor.getSnapshot().hasTag("live")).toBe(true)
  })

  it("re-wakes an agent that does not check in, then goes offline with a reason", () => {
    const h = makeHarness()
    h.advance(20)
    for (let wake = 1; wake < 3; wake++) {
      h.advance(30_000)
      expect(h.state()).toBe('{"provisioning":"waking"}')
      h.advance(10)
      expect(h.context().wakeAttempts).toBe(wake + 1)
    }
    h.advance(30_000)
    expect(h.state()).toBe('"offline"')
    expect(h.calls.wake).toBe(3)
    expect(h.context().offlineReason).toBe("did not check in after wake (3 wakes)")
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"online"')
    expect(h.context().offlineReason).toBeNull()
  })

  it("uses a distinct wake generation/attempt for each wake, so idempotency keys differ", () => {
    const h = makeHarness()
    h.advance(20)
    h.advance(30_010)
    expect(h.wakeInputs).toMatchObject([
      { generation: 1, attempt: 1 },
      { generation: 1, attempt: 2 }
    ])
  })

  it("goes offline after silence past the threshold and back online on a heartbeat", () => {
    const h = makeHarness()
    h.advance(20)
    h.send({ type: "agent.heartbeat", at: h.now() })
    h.advance(599_000)
    h.send({ type: "agent.heartbeat", at: h.now() })
    h.advance(599_000)
    expect(h.state()).toBe('"online"')
    h.advance(1_001)
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("no heartbeat for 600 s")
  })

  it("retries a transient apply failure in a visible retrying state with backoff", () => {
    const h = makeHarness({ apply: [transientError("apply"), transientError("apply")] })
    h.advance(10)
    expect(h.state()).toBe('{"provisioning":"retrying"}')
    expect(h.context()).toMatchObject({ attempts: 1, lastError: { tag: "GatewayConnectionError", step: "apply" } })
    expect(h.context().deadline).toBe(h.now() + 2_000)
    h.advance(2_000)
    expect(h.state()).toBe('{"provisioning":"applying"}')
    h.advance(10)
    expect(h.context().deadline).toBe(h.now() + 4_000)
    h.advance(4_010)
    expect(h.state()).toBe('{"provisioning":"waking"}')
    expect(h.context().lastError).toBeNull()
  })

  it("stops in failed on a terminal error and leaves it only through agent.retry", () => {
    const h = makeHarness({ apply: [terminalError("apply")] })
    h.advance(10)
    expect(h.state()).toBe('{"provisioning":"failed"}')
    h.advance(3_600_000)
    expect(h.state()).toBe('{"provisioning":"failed"}')
    h.send({ type: "agent.retry", at: h.now() })
    expect(h.state()).toBe('{"provisioning":"applying"}')
    h.advance(10)
    expect(h.state()).toBe('{"provisioning":"waking"}')
  })

  it("gives up after maxAttempts transient failures", () => {
    const h = makeHarness({ apply: [transientError("apply"), transientError("apply"), transientError("apply")] })
    h.advance(10)
    h.advance(2_010)
    h.advance(4_010)
    expect(h.state()).toBe('{"provisioning":"failed"}')
    expect(h.context().attempts).toBe(3)
  })

  it("updates from online with merged changes and a reset session, then converges online", () => {
    const h = makeHarness()
    h.advance(20)
    h.send({ type: "agent.heartbeat", at: h.now() })
    h.send({ type: "agent.update", at: h.now(), changes: { name: "Ada Lovelace" } })
    expect(h.state()).toBe('{"updating":"applying"}')
    expect(h.context()).toMatchObject({ spec: { name: "Ada Lovelace" }, generation: 2, request: { action: "update", resetSession: true } })
    h.advance(20)
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"online"')
  })

  it("ignores an empty update unless forced", () => {
    const h = makeHarness()
    h.advance(20)
    h.send({ type: "agent.heartbeat", at: h.now() })
    h.send({ type: "agent.update", at: h.now(), changes: {} })
    expect(h.state()).toBe('"online"')
    h.send({ type: "agent.update", at: h.now(), changes: {}, force: true })
    expect(h.state()).toBe('{"updating":"applying"}')
  })

  it("an update while an update has failed starts a fresh apply", () => {
    const h = makeHarness()
    h.advance(20)
    h.script.apply.push(terminalError("apply"))
    h.send({ type: "agent.update", at: h.now(), changes: { name: "B" } })
    h.advance(10)
    expect(h.state()).toBe('{"updating":"failed"}')
    h.send({ type: "agent.update", at: h.now(), changes: { name: "C" } })
    expect(h.state()).toBe('{"updating":"applying"}')
    expect(h.calls.apply).toBe(3)
  })

  it("deletes from any state and ends in the final deleted state", () => {
    const h = makeHarness()
    h.send({ type: "agent.delete", at: h.now() })
    expect(h.state()).toBe('{"deleting":"removing"}')
    h.send({ type: "agent.update", at: h.now(), changes: { name: "ignored" } })
    expect(h.state()).toBe('{"deleting":"removing"}')
    h.advance(10)
    expect(h.state()).toBe('"deleted"')
    expect(h.actor.getSnapshot().status).toBe("done")
    expect(h.calls.apply).toBe(1)
  })

  it("a restored actor re-runs the invoke that was in flight and fires deadlines on time", () => {
    const first = makeHarness()
    first.advance(20)
    expect(first.state()).toBe('{"provisioning":"awaiting"}')
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()))
    first.actor.stop()

    const restored = makeHarness({ snapshot: persisted, start: first.now() + 10_000 })
    expect(restored.state()).toBe('{"provisioning":"awaiting"}')
    restored.advance(19_999)
    expect(restored.state()).toBe('{"provisioning":"awaiting"}')
    restored.advance(1)
    expect(restored.state()).toBe('{"provisioning":"waking"}')

    const inFlight = makeHarness()
    const midApply = JSON.parse(JSON.stringify(inFlight.actor.getPersistedSnapshot()))
    const resumed = makeHarness({ snapshot: midApply })
    expect(resumed.calls.apply).toBe(1)
    resumed.advance(10)
    expect(resumed.state()).toBe('{"provisioning":"waking"}')
  })

  it("a deadline that passed while the service was down fires at once on restore", () => {
    const first = makeHarness()
    first.advance(20)
    first.send({ type: "agent.heartbeat", at: first.now() })
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()))
    first.actor.stop()
    const restored = makeHarness({ snapshot: persisted, start: first.now() + 3_600_000 })
    restored.advance(0)
    expect(restored.state()).toBe('"offline"')
  })

  it("never keeps a raw token in the persisted snapshot", () => {
    const h = makeHarness()
    h.advance(20)
    const text = JSON.stringify(h.actor.getPersistedSnapshot())
    expect(text).not.toMatch(/sy_[A-Za-z0-9_-]{20,}/)
    expect(text.length).toBeLessThan(4_000)
  })

  it("retries a failed wake on its own, without re-applying, and stops after maxAttempts", () => {
    const h = makeHarness({ wake: Array.from({ length: 20 }, () => transientError("wake")) })
    h.advance(10)
    expect(h.context().workspaceSeeded).toBe(true)
    h.advance(10)
    expect(h.state()).toBe('{"provisioning":"wakeRetrying"}')
    h.advance(2_000)
    expect(h.state()).toBe('{"provisioning":"waking"}')
    h.advance(10)
    h.advance(4_000)
    h.advance(10)
    expect(h.state()).toBe('{"provisioning":"failed"}')
    expect(h.calls).toMatchObject({ apply: 1, wake: 3 })
    expect(h.context().lastError).toMatchObject({ step: "wake", transient: true })
  })

  it("a wake that succeeds after a failed one resets the step's attempts but keeps counting wakes", () => {
    const h = makeHarness({ wake: [transientError("wake")] })
    h.advance(20)
    h.advance(2_010)
    expect(h.state()).toBe('{"provisioning":"awaiting"}')
    expect(h.context()).toMatchObject({ attempts: 0, wakeAttempts: 1 })
  })

  it("system.policy re-arms an online agent's offline deadline under the new threshold", () => {
    const h = makeHarness()
    h.advance(20)
    h.send({ type: "agent.heartbeat", at: h.now() })
    const seen = h.now()
    h.advance(60_000)
    h.send({ type: "system.policy", at: h.now(), policy: { ...h.context().policy, offlineAfterMs: 90_000 } })
    expect(h.state()).toBe('"online"')
    expect(h.context().deadline).toBe(seen + 90_000)
    h.advance(30_001)
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("no heartbeat for 90 s")
  })
})
