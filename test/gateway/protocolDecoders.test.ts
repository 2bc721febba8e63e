import { describe, expect, it } from "vitest"
import { AgentsListResult, HealthResult } from "../../src/gateway/protocol.ts"

/** The fleet-sized replies are checked entry by entry, without a copy (docs/operations.md §8). */
describe("fleet-sized gateway replies", () => {
  it("agents.list: entries pass as they are, unknown fields kept; an entry without a string id is refused", () => {
    const entry = { id: "mc-1", name: "One", identity: { emoji: "x" } }
    const decoded = AgentsListResult.safeParse({ defaultId: "main", agents: [entry, { id: "main" }] })
    expect(decoded.success).toBe(true)
    expect(decoded.data?.agents[0]).toBe(entry)
    expect(AgentsListResult.safeParse({ agents: [{ id: 7 }] }).success).toBe(false)
    expect(AgentsListResult.safeParse({ agents: [{ id: "mc-1", name: 3 }] }).success).toBe(false)
    expect(AgentsListResult.safeParse({ agents: {} }).success).toBe(false)
    expect(AgentsListResult.safeParse({}).success).toBe(false)
  })

  it("health: heartbeats are checked (everyMs null when disabled); agents may be absent; other fields pass unchecked", () => {
    const agents = [
      { agentId: "mc-1", heartbeat: { enabled: true, every: "10m", everyMs: 600_000 }, sessions: { count: 2 } },
      { agentId: "mc-2", heartbeat: { enabled: false, every: "0m", everyMs: null } },
      { agentId: "mc-3" }
    ]
    const decoded = HealthResult.safeParse({ ok: true, ts: 5, agents })
    expect(decoded.success).toBe(true)
    expect(decoded.data?.agents?.[0]).toBe(agents[0])
    expect(HealthResult.safeParse({ ok: true }).success).toBe(true)
    expect(HealthResult.safeParse({ ok: true, agents: [{ agentId: "mc-1", heartbeat: { enabled: "yes", every: "10m", everyMs: 1 } }] }).success).toBe(false)
    expect(HealthResult.safeParse({ ok: true, agents: [{ agentId: "mc-1", heartbeat: { enabled: true, every: "10m" } }] }).success).toBe(false)
    expect(HealthResult.safeParse({ ok: true, agents: [{ heartbeat: null }] }).success).toBe(false)
  })
})
