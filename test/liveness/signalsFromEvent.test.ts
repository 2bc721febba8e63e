import { describe, expect, it } from "vitest"
import { RunTracker, signalsFromEvent } from "../../src/liveness/signalsFromEvent.ts"

const changed = (payload: Record<string, unknown>) => signalsFromEvent({ gatewayId: "g", event: "sessions.changed", payload }, new RunTracker(), 7)

// docs/gateway-protocol.md §10, §11: what a `sessions.changed` means for an agent's liveness.
describe("signalsFromEvent: sessions.changed", () => {
  it("a session patch or send is the agent's activity, named by agentId or by its session key", () => {
    expect(changed({ sessionKey: "agent:mc-a:main", agentId: "mc-a", reason: "patch" })).toEqual([
      { gatewayAgentId: "mc-a", event: { type: "gateway.session.changed", at: 7, source: "sessions.changed", sessionKey: "agent:mc-a:main", reason: "patch" } }
    ])
    expect(changed({ sessionKey: "agent:mc-b:main", reason: "send" })).toEqual([
      { gatewayAgentId: "mc-b", event: { type: "gateway.session.changed", at: 7, source: "sessions.changed", sessionKey: "agent:mc-b:main", reason: "send" } }
    ])
  })

  it("the scheduler's cron-binding bookkeeping is not activity", () => {
    expect(changed({ sessionKey: "agent:mc-a:main", reason: "cron-binding", ts: 1 })).toEqual([])
    expect(changed({ reason: "cron-bindings-loaded", ts: 1 })).toEqual([])
  })
})
