import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { AGENT_MACHINE_VERSION } from "../../machines/agent/agentMachine.ts"
import { restorableSnapshot } from "../../src/agents/restoreAgent.ts"

const storedRow = (snapshot: unknown, machineVersion = AGENT_MACHINE_VERSION) => ({ id: "agent-1", snapshot, machineVersion, version: "3" })

const stored = () => ({
  status: "active",
  value: { online: "idle" },
  context: {
    agentId: "agent-1",
    gatewayId: "gateway-1",
    gatewayAgentId: "mc-agent-1",
    sessionKey: "agent:mc-agent-1:main",
    spec: { name: "worker", heartbeat: { every: "10m" } },
    policy: { offlineAfterMs: 600_000 },
    lastSeenAt: 1_700_000_000_000
  },
  children: {},
  historyValue: {}
})

describe("restorableSnapshot", () => {
  it("restores from the stored value itself once it is checked, not from a copy each agent would keep", () => {
    const row = storedRow(stored())
    const restored = Effect.runSync(restorableSnapshot(row))
    expect(restored).toBe(row.snapshot)
    expect(restored).toEqual(stored())
  })

  it("refuses a snapshot of another shape", () => {
    const result = Effect.runSync(Effect.either(restorableSnapshot(storedRow({ ...stored(), context: { agentId: "agent-1" } }))))
    expect(Either.isLeft(result) && result.left._tag).toBe("SnapshotInvalid")
  })

  it("refuses a snapshot of an unknown machine version", () => {
    const result = Effect.runSync(Effect.either(restorableSnapshot(storedRow(stored(), "999"))))
    expect(Either.isLeft(result) && result.left._tag).toBe("MachineVersionUnknown")
  })
})
