import { describe, expect, it } from "vitest"
import { input, makeHarness, policy } from "./agentHarness.ts"

/** An agent woken until it gave up: offline, "did not check in". */
const neverCheckedIn = () => {
  const h = makeHarness()
  h.advance(20 + policy.maxWakeAttempts * (policy.checkinTimeoutMs + 10))
  expect(h.state()).toBe('"offline"')
  expect(h.context().liveness?.offlineCause).toBe("no_checkin")
  return h
}

describe("the offline reason names the cause that holds now", () => {
  it("a curl-back while the gateway lacks the agent replaces 'did not check in' with 'deleted on the gateway'", () => {
    const h = neverCheckedIn()
    h.send({ type: "gateway.agent.missing", at: h.now(), source: "agents.list" })
    // A gateway signal alone leaves "did not check in": it still holds.
    expect(h.context().liveness?.offlineCause).toBe("no_checkin")
    h.advance(1_000)
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe(`deleted on the gateway: ${input.gatewayAgentId} is missing from agents.list`)
    expect(h.context().liveness?.offlineCause).toBe("gateway_missing")
    // The cause is now one the signals judge: the agent comes back by itself when it is listed again.
    h.send({ type: "gateway.agent.present", at: h.now(), source: "agents.list" })
    expect(h.state()).toBe('"online"')
    expect(h.context().offlineReason).toBeNull()
  })

  it("a curl-back while the gateway is unreachable past its limit says 'gateway unreachable'", () => {
    const h = neverCheckedIn()
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1006)" })
    h.advance(90_000)
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("gateway unreachable for more than 90 s")
    expect(h.context().liveness?.offlineCause).toBe("gateway_unreachable")
  })

  it("a curl-back from an agent applied without a wake, whose heartbeat differs on the gateway, names the mismatch", () => {
    const h = makeHarness({ applyOutput: { effectiveHeartbeat: { enabled: false, every: "disabled", everyMs: null } } })
    h.advance(20)
    h.send({ type: "agent.update", at: h.now(), changes: {}, force: true, options: { wake: false } })
    h.advance(20)
    expect(h.context().liveness?.offlineCause).toBe("never_seen")
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("heartbeat disabled on the gateway; we set every 10m")
    expect(h.context().liveness?.offlineCause).toBe("heartbeat_mismatch")
  })
})

describe("an agent offline for silence while its gateway goes away", () => {
  /** Online after a check-in, then silent past the limit. */
  const silent = () => {
    const h = makeHarness()
    h.advance(20)
    h.send({ type: "agent.heartbeat", at: h.now() })
    h.advance(policy.offlineAfterMs)
    expect(h.context().liveness?.offlineCause).toBe("silent")
    return h
  }

  it("stays offline when the connection is lost (a lost gateway is not a sign of life)", () => {
    const h = silent()
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1006)" })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("no heartbeat for 600 s")
    expect(h.context().liveness?.offlineCause).toBe("silent")
  })

  it("says 'gateway unreachable' once the gateway is away past its limit, and is silent again when it returns", () => {
    const h = silent()
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1006)" })
    h.advance(89_000)
    expect(h.context().liveness?.offlineCause).toBe("silent")
    h.advance(1_000)
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("gateway unreachable for more than 90 s")
    expect(h.context().liveness?.offlineCause).toBe("gateway_unreachable")
    // The outage is left out of the silence, not the silence before it: still silent on return.
    h.advance(60_000)
    h.send({ type: "gateway.connection.regained", at: h.now(), source: "socket" })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("no heartbeat for 600 s")
    expect(h.context().liveness?.offlineCause).toBe("silent")
  })

  it("stays offline through a short gateway blip (lost, then regained 2 s later)", () => {
    const h = silent()
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1012)" })
    h.advance(2_000)
    h.send({ type: "gateway.connection.regained", at: h.now(), source: "socket" })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("no heartbeat for 600 s")
    h.advance(590_000)
    expect(h.state()).toBe('"offline"')
  })
})

describe("an online agent whose gateway goes away", () => {
  it("is offline 'gateway unreachable' past the limit, online on return, and silent only after the rest of its limit", () => {
    const h = makeHarness()
    h.advance(20)
    h.send({ type: "agent.heartbeat", at: h.now() })
    h.advance(100_000) // 100 s of silence before the loss
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1006)" })
    h.advance(120_000)
    expect(h.state()).toBe('"offline"')
    expect(h.context().liveness?.offlineCause).toBe("gateway_unreachable")
    h.send({ type: "gateway.connection.regained", at: h.now(), source: "socket" })
    expect(h.state()).toBe('"online"')
    // The 100 s before the loss still count; the 120 s away do not.
    h.advance(policy.offlineAfterMs - 100_000 - 1_000)
    expect(h.state()).toBe('"online"')
    h.advance(1_000)
    expect(h.state()).toBe('"offline"')
    expect(h.context().liveness?.offlineCause).toBe("silent")
  })
})
