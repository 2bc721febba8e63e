import { describe, expect, it } from "vitest"
import type { SignalSource } from "../../machines/agent/livenessTypes.ts"
import { everyToMs, heartbeatMismatchOf, silenceLimitMs } from "../../machines/agent/liveness.ts"
import { input, makeHarness, policy } from "./agentHarness.ts"

const MINUTE = 60_000

/** An agent online after its first check-in, on a SimulatedClock. */
const online = (options: Parameters<typeof makeHarness>[0] = {}) => {
  const h = makeHarness(options)
  h.advance(20)
  h.send({ type: "agent.heartbeat", at: h.now() })
  expect(h.state()).toBe('"online"')
  return h
}

const disabled = { ...input.spec, heartbeat: { every: "0m", target: "none" } }
const source = (name: SignalSource) => name

describe("agent liveness from gateway signals", () => {
  it("an online agent stays online while the gateway shows it working, without any curl-back", () => {
    const h = online()
    for (let minute = 0; minute < 60; minute += 5) {
      h.advance(5 * MINUTE)
      const at = h.now()
      if (minute % 10 === 0) h.send({ type: "gateway.run.started", at, source: source("agent"), runId: `r${minute}`, heartbeat: false })
      else h.send({ type: "gateway.session.changed", at, source: "sessions.changed", sessionKey: input.sessionKey, reason: "activity-summary" })
    }
    expect(h.state()).toBe('"online"')
    expect(h.context().liveness).toMatchObject({ lastActivityAt: h.now(), lastActivitySource: "sessions.changed" })
    // Silence after the last signal still counts: the floor (offlineAfterMs) applies.
    h.advance(policy.offlineAfterMs)
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("no heartbeat or gateway activity for 600 s")
    expect(h.context().liveness?.offlineCause).toBe("silent")
    h.send({ type: "gateway.run.started", at: h.now(), source: "agent", runId: "back", heartbeat: true })
    expect(h.state()).toBe('"online"')
    expect(h.context().offlineReason).toBeNull()
  })

  it("records the last run and its outcome; a failed run says why", () => {
    const h = online()
    h.send({ type: "gateway.run.started", at: h.now(), source: "agent", runId: "r1", heartbeat: false })
    h.advance(500)
    const failure = "No route-compatible authentication source is configured for openai."
    h.send({ type: "gateway.run.ended", at: h.now(), source: "agent", runId: "r1", heartbeat: false, outcome: "error", failure })
    expect(h.context().liveness?.lastRun).toEqual({ runId: "r1", heartbeat: false, startedAt: h.now() - 500, endedAt: h.now(), outcome: "error", error: failure })
    expect(h.state()).toBe('"online"')
  })

  it("goes offline after maxFailedRuns failed runs in a row, naming the error, and back on a run that succeeds", () => {
    const h = online()
    for (let run = 1; run <= 3; run++) {
      h.advance(1_000)
      h.send({ type: "gateway.run.ended", at: h.now(), source: "agent", runId: `r${run}`, heartbeat: true, outcome: "error", failure: "model auth missing" })
    }
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("runs failing (3 in a row): model auth missing")
    expect(h.context().liveness?.offlineCause).toBe("runs_failing")
    h.send({ type: "gateway.run.ended", at: h.now(), source: "agent", runId: "r4", heartbeat: false, outcome: "ok" })
    expect(h.state()).toBe('"online"')
    expect(h.context().liveness?.failedRuns).toBe(0)
  })

  it("a curl-back ends 'runs failing' (the model works), but does not bring back an agent whose gateway is away", () => {
    const h = online()
    for (let run = 1; run <= 3; run++) {
      h.send({ type: "gateway.run.ended", at: h.now(), source: "agent", runId: `r${run}`, heartbeat: false, outcome: "error", failure: "model auth missing" })
    }
    expect(h.context().liveness?.offlineCause).toBe("runs_failing")
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"online"')
    expect(h.context().liveness?.failedRuns).toBe(0)
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1006)" })
    h.advance(90_000)
    expect(h.context().liveness?.offlineCause).toBe("gateway_unreachable")
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("gateway unreachable for more than 90 s")
  })

  it("goes offline once the gateway is unreachable past its threshold, and back online when it returns", () => {
    const h = online({ input: { spec: disabled } })
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1012)" })
    expect(h.context().liveness?.gatewayReachable).toBe(false)
    h.advance(89_000)
    expect(h.state()).toBe('"online"')
    h.advance(1_000)
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("gateway unreachable for more than 90 s")
    expect(h.context().liveness?.offlineCause).toBe("gateway_unreachable")
    h.advance(10 * MINUTE)
    h.send({ type: "gateway.connection.regained", at: h.now(), source: "socket" })
    expect(h.state()).toBe('"online"')
    expect(h.context().liveness).toMatchObject({ gatewayReachable: true, gatewayLostAt: null, offlineCause: null })
  })

  it("a gateway that returns within its threshold leaves its agents online", () => {
    const h = online()
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1006)" })
    h.advance(30_000)
    h.send({ type: "gateway.connection.regained", at: h.now(), source: "socket" })
    h.advance(5 * MINUTE)
    expect(h.state()).toBe('"online"')
  })

  it("a long outage is not the agent's silence: it is left out of the count", () => {
    const h = online()
    h.send({ type: "gateway.connection.lost", at: h.now(), source: "socket", reason: "closed (1006)" })
    h.advance(30 * MINUTE)
    expect(h.context().offlineReason).toBe("gateway unreachable for more than 90 s")
    h.send({ type: "gateway.connection.regained", at: h.now(), source: "socket" })
    expect(h.state()).toBe('"online"')
    h.advance(policy.offlineAfterMs - 1_000)
    expect(h.state()).toBe('"online"')
    h.advance(1_000)
    expect(h.context().offlineReason).toBe("no heartbeat for 600 s")
  })

  it("an agent deleted on the gateway goes offline as missing at once; agent.retry re-provisions it", () => {
    const h = online()
    h.send({ type: "gateway.agent.missing", at: h.now(), source: "agents.list" })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe(`deleted on the gateway: ${input.gatewayAgentId} is missing from agents.list`)
    expect(h.context().liveness?.offlineCause).toBe("gateway_missing")
    // A curl-back does not hide that the gateway lacks it.
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"offline"')
    h.send({ type: "agent.retry", at: h.now() })
    expect(h.state()).toBe('{"updating":"applying"}')
    h.advance(20)
    expect(h.context().liveness?.missingSince).toBeNull()
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"online"')
  })

  it("an agent that reappears in agents.list is online again by itself", () => {
    const h = online()
    h.send({ type: "gateway.agent.missing", at: h.now(), source: "agents.list" })
    h.advance(1_000)
    h.send({ type: "gateway.agent.present", at: h.now(), source: "agents.list" })
    expect(h.state()).toBe('"online"')
  })

  it("a heartbeat different from the one we set takes the agent offline, and the right one brings it back", () => {
    const h = online()
    h.send({ type: "gateway.heartbeat.effective", at: h.now(), source: "health", enabled: false, every: "disabled", everyMs: null })
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("heartbeat disabled on the gateway; we set every 10m")
    expect(h.context().liveness?.offlineCause).toBe("heartbeat_mismatch")
    h.send({ type: "gateway.heartbeat.effective", at: h.now(), source: "health", enabled: true, every: "10m", everyMs: 600_000 })
    expect(h.state()).toBe('"online"')
    expect(h.context().liveness?.heartbeat).toMatchObject({ enabled: true, everyMs: 600_000 })
  })

  it("the silence limit comes from the effective interval: 1.5 × everyMs + grace, floored by offlineAfterMs", () => {
    const h = online({ input: { spec: { ...input.spec, heartbeat: { every: "30m", target: "none" } } } })
    h.send({ type: "gateway.heartbeat.effective", at: h.now(), source: "health", enabled: true, every: "30m", everyMs: 30 * MINUTE })
    expect(silenceLimitMs(h.context())).toBe(46 * MINUTE)
    h.advance(46 * MINUTE - 1_000)
    expect(h.state()).toBe('"online"')
    h.advance(1_000)
    expect(h.state()).toBe('"offline"')
    expect(h.context().offlineReason).toBe("no heartbeat for 2760 s")
    // A short interval never goes below the floor.
    const short = online({ input: { spec: { ...input.spec, heartbeat: { every: "1m", target: "none" } } } })
    short.send({ type: "gateway.heartbeat.effective", at: short.now(), source: "health", enabled: true, every: "1m", everyMs: MINUTE })
    expect(silenceLimitMs(short.context())).toBe(policy.offlineAfterMs)
    // Factor 0 leaves the floor alone.
    const floorOnly = online({ input: { policy: { ...policy, offlineFactor: 0 } } })
    floorOnly.send({ type: "gateway.heartbeat.effective", at: floorOnly.now(), source: "health", enabled: true, every: "1h", everyMs: 60 * MINUTE })
    expect(silenceLimitMs(floorOnly.context())).toBe(policy.offlineAfterMs)
  })

  it("with LLM heartbeats disabled an idle agent stays online for hours while the gateway is there", () => {
    const h = online({ input: { spec: disabled } })
    h.send({ type: "gateway.heartbeat.effective", at: h.now(), source: "health", enabled: false, every: "disabled", everyMs: null })
    expect(h.state()).toBe('"online"')
    h.advance(6 * 60 * MINUTE)
    expect(h.state()).toBe('"online"')
  })

  it("a wake's run under way extends the check-in window, so a real first run has time", () => {
    const h = makeHarness()
    h.advance(20)
    expect(h.state()).toBe('{"provisioning":"awaiting"}')
    h.advance(25_000)
    h.send({ type: "gateway.run.started", at: h.now(), source: "agent", runId: "wake-1", heartbeat: false })
    expect(h.context().deadline).toBe(h.now() + policy.checkinTimeoutMs)
    h.advance(25_000)
    expect(h.state()).toBe('{"provisioning":"awaiting"}')
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"online"')
    expect(h.calls.wake).toBe(1)
  })

  it("the heartbeat read back after an apply's config.patch is recorded, and a mismatch with it", () => {
    const h = makeHarness({ applyOutput: { effectiveHeartbeat: { enabled: true, every: "30m", everyMs: 30 * MINUTE } } })
    h.advance(20)
    expect(h.context().liveness).toMatchObject({
      heartbeat: { enabled: true, every: "30m", everyMs: 30 * MINUTE },
      heartbeatMismatch: "heartbeat runs every 30m on the gateway; we set 10m"
    })
    // Checking in does not hide it: the agent is offline with the mismatch as its reason.
    h.send({ type: "agent.heartbeat", at: h.now() })
    expect(h.state()).toBe('"online"')
    h.send({ type: "gateway.session.changed", at: h.now(), source: "sessions.changed", sessionKey: input.sessionKey, reason: "x" })
    expect(h.state()).toBe('"offline"')
    expect(h.context().liveness?.offlineCause).toBe("heartbeat_mismatch")
  })

  it("signals are recorded in every state; the judgment only moves online and offline agents", () => {
    const h = makeHarness()
    h.send({ type: "gateway.agent.missing", at: h.now(), source: "agents.list" })
    expect(h.state()).toBe('{"provisioning":"applying"}')
    expect(h.context().liveness?.missingSince).toBe(h.now())
    h.advance(10)
    // The apply ensured the agent exists.
    expect(h.context().liveness?.missingSince).toBeNull()
  })

  it("an agent persisted before liveness existed restores and is judged: an old silent one comes back on activity", () => {
    const h = online()
    h.advance(policy.offlineAfterMs)
    const persisted = JSON.parse(JSON.stringify(h.actor.getPersistedSnapshot())) as { context: Record<string, unknown> }
    delete persisted.context["liveness"]
    h.actor.stop()
    const restored = makeHarness({ snapshot: persisted as never, start: h.now() + 1_000 })
    expect(restored.state()).toBe('"offline"')
    expect(restored.context().offlineReason).toBe("no heartbeat for 600 s")
    restored.send({ type: "gateway.session.changed", at: restored.now(), source: "sessions.changed", sessionKey: input.sessionKey, reason: "x" })
    expect(restored.state()).toBe('"online"')
  })

  it("reads heartbeat cadences as the gateway writes them", () => {
    expect([everyToMs("10m"), everyToMs("30s"), everyToMs("1h"), everyToMs("0m"), everyToMs("disabled"), everyToMs("soon")]).toEqual([
      600_000, 30_000, 3_600_000, 0, 0, null
    ])
    const at = 0
    expect(heartbeatMismatchOf({ every: "0m", target: "none" }, { enabled: false, every: "disabled", everyMs: null, at })).toBeNull()
    expect(heartbeatMismatchOf({ every: "0m", target: "none" }, { enabled: true, every: "30m", everyMs: 1_800_000, at })).toBe(
      "heartbeat runs every 30m on the gateway; we disabled it (0m)"
    )
  })
})
