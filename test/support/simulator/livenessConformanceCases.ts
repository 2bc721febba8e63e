import { describe, expect, it } from "vitest"
import { HelloOk } from "../../../src/gateway/protocol.ts"
import { RunTracker, signalsFromEvent } from "../../../src/liveness/signalsFromEvent.ts"
import { releaseOfHello } from "../openclawRelease.ts"
import type { RawConnection, RawEvent } from "../rawGatewayClient.ts"
import { callOk, createReadyAgent } from "./conformanceSupport.ts"

const eventsOf = (gw: RawConnection, name: string, match: (payload: Record<string, unknown>) => boolean): Array<RawEvent> =>
  gw.events.filter((event) => event.event === name && match((event.payload ?? {}) as Record<string, unknown>))

/** Sets the agent's heartbeat through `config.patch` (docs/gateway-protocol.md §0.5). */
const patchHeartbeat = async (gw: RawConnection, agentId: string, every: string) => {
  const { hash } = await callOk(gw, "config.get", {})
  await callOk(gw, "config.patch", { raw: JSON.stringify({ agents: { entries: { [agentId]: { heartbeat: { every, target: "none" } } } } }), baseHash: hash })
}

/**
 * Liveness signals (docs/gateway-protocol.md §10): what the watcher subscribes to and reads, with
 * Switchyard's own mapping (`signalsFromEvent`) run on what arrives, so the simulator and the
 * real gateway must agree on the events and on what they mean.
 */
export function defineLivenessCases(conn: () => RawConnection, run: string, created: Set<string>): void {
  describe("liveness signals", () => {
    it("advertises the liveness methods and events in hello-ok", () => {
      const hello = HelloOk.parse(conn().hello)
      expect(hello.features?.methods).toEqual(expect.arrayContaining(["health", "agents.list", "sessions.subscribe"]))
      expect(hello.features?.events).toEqual(expect.arrayContaining(["agent", "sessions.changed", "heartbeat", "health", "tick", "presence"]))
    })

    it("health {probe:true} reports each agent's effective heartbeat; 0m reads as disabled", async () => {
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-live-hb-${run}`, created)
      await patchHeartbeat(gw, agentId, "0m")
      const off = (await callOk(gw, "health", { probe: true })).agents?.find((agent) => agent.agentId === agentId)
      expect(off?.heartbeat).toMatchObject({ enabled: false, every: "disabled", everyMs: null })
      await patchHeartbeat(gw, agentId, "10m")
      const on = (await callOk(gw, "health", { probe: true })).agents?.find((agent) => agent.agentId === agentId)
      expect(on?.heartbeat).toMatchObject({ enabled: true, every: "10m", everyMs: 600_000 })
    })

    it("after sessions.subscribe, a session patch pushes sessions.changed for the agent", async () => {
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-live-ses-${run}`, created)
      expect((await callOk(gw, "sessions.subscribe", {})).subscribed).toBe(true)
      const sessionKey = `agent:${agentId}:main`
      await callOk(gw, "sessions.patch", { key: sessionKey, label: `live ${run}` })
      // 2026.8.2 also pushes `cron-binding` changes (its scheduler's bookkeeping), which map to no signal (docs/gateway-protocol.md §11).
      const activity = () =>
        eventsOf(gw, "sessions.changed", (p) => p["sessionKey"] === sessionKey).filter(
          (event) => signalsFromEvent({ gatewayId: "g", event: "sessions.changed", payload: event.payload }, new RunTracker(), 1).length > 0
        )
      await expect.poll(() => activity().length, { timeout: 15_000 }).toBeGreaterThan(0)
      const [changed] = activity()
      expect(changed?.payload).toMatchObject({ sessionKey, agentId, reason: "patch" })
      expect(signalsFromEvent({ gatewayId: "g", event: "sessions.changed", payload: changed?.payload }, new RunTracker(), 1)).toEqual([
        { gatewayAgentId: agentId, event: { type: "gateway.session.changed", at: 1, source: "sessions.changed", sessionKey, reason: "patch" } }
      ])
    })

    it("a chat run pushes agent events; without model credentials it fails, and the failure says why", async () => {
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-live-run-${run}`, created)
      const sessionKey = `agent:${agentId}:main`
      const runId = `conf-live-${run}`
      await callOk(gw, "sessions.patch", { key: sessionKey })
      expect((await callOk(gw, "chat.send", { sessionKey, message: "liveness", idempotencyKey: runId })).runId).toBe(runId)
      const ofRun = () => eventsOf(gw, "agent", (p) => p["runId"] === runId)
      await expect.poll(() => ofRun().some((e) => (e.payload as { data?: { phase?: string } }).data?.phase === "error"), { timeout: 30_000 }).toBe(true)
      const tracker = new RunTracker()
      const signals = ofRun().flatMap((event) => signalsFromEvent({ gatewayId: "g", event: "agent", payload: event.payload }, tracker, 0))
      expect(signals.map((signal) => [signal.gatewayAgentId, signal.event.type])).toEqual([
        [agentId, "gateway.run.started"],
        [agentId, "gateway.run.ended"]
      ])
      expect(signals[0]?.event).toMatchObject({ runId, heartbeat: false, source: "agent" })
      expect(signals[1]?.event).toMatchObject({ runId, outcome: "error", failure: releaseOfHello(gw.hello).runFailureWithoutCredentials })
    })
  })
}
