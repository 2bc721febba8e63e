import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { AGENT_MACHINE_VERSION } from "../../machines/agent/agentMachine.ts"
import { restorableSnapshot, restoreShares, sameSnapshot, shareRestoredValues } from "../../src/agents/restoreAgent.ts"

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

  it("drops the deadline waiter an earlier build stored as a child, and keeps the other children", () => {
    const waiter = { snapshot: { status: "active", input: { at: 1 } }, src: "deadline", systemId: undefined, syncSnapshot: false }
    const program = { snapshot: { status: "active" }, src: "applyAgent", syncSnapshot: false }
    const row = storedRow({ ...stored(), children: { "0.agent.online": waiter, "0.agent.provisioning.applying": program } })
    const restored = Effect.runSync(restorableSnapshot(row)) as unknown as { children: Record<string, unknown> }
    expect(restored.children).toEqual({ "0.agent.provisioning.applying": program })
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

/** `value` as Postgres hands a jsonb column back: its keys reordered (jsonb sorts them), `undefined` members gone. */
const throughJsonb = (value: unknown): unknown => {
  const sorted = (item: unknown): unknown =>
    Array.isArray(item)
      ? item.map(sorted)
      : item !== null && typeof item === "object"
        ? Object.fromEntries(Object.keys(item).sort().reverse().map((key) => [key, sorted((item as Record<string, unknown>)[key])]))
        : item
  return sorted(JSON.parse(JSON.stringify(value)))
}

describe("sameSnapshot", () => {
  it("holds for a snapshot and its stored form, whatever the key order and with undefined members", () => {
    const persisted = { ...stored(), output: undefined, context: { ...stored().context, list: [1, "a", null, { b: true }], retired: undefined } }
    expect(sameSnapshot(persisted, throughJsonb(persisted))).toBe(true)
  })

  it("fails on any changed, added or missing member, nested ones too", () => {
    const base = stored()
    const storedForm = throughJsonb(base)
    expect(sameSnapshot({ ...base, context: { ...base.context, lastSeenAt: 1_700_000_000_001 } }, storedForm)).toBe(false)
    expect(sameSnapshot({ ...base, context: { ...base.context, extra: null } }, storedForm)).toBe(false)
    const { lastSeenAt: _, ...withoutLastSeen } = base.context
    expect(sameSnapshot({ ...base, context: withoutLastSeen }, storedForm)).toBe(false)
    expect(sameSnapshot({ ...base, context: { ...base.context, spec: { ...base.context.spec, heartbeat: { every: "20m" } } } }, storedForm)).toBe(false)
    expect(sameSnapshot({ ...base, value: "online" }, storedForm)).toBe(false)
    expect(sameSnapshot({ ...base, children: [] }, storedForm)).toBe(false)
  })

  it("compares what JSON writes differently as JSON does: a Date as its ISO text, a non-finite number as null", () => {
    const at = new Date(1_700_000_000_000)
    expect(sameSnapshot({ at, n: Number.NaN, list: [undefined] }, { at: at.toISOString(), n: null, list: [null] })).toBe(true)
    expect(sameSnapshot({ at }, { at: "2020-01-01T00:00:00.000Z" })).toBe(false)
  })

  it("does not walk a member that is the stored object itself (a restored actor's own context)", () => {
    const storedForm = throughJsonb(stored()) as { context: object }
    // Any read of the context's members throws: only its identity may decide.
    const context = new Proxy(storedForm.context, {
      get: () => {
        throw new Error("context walked")
      },
      ownKeys: () => {
        throw new Error("context walked")
      }
    })
    const restored = { ...storedForm, context }
    expect(sameSnapshot({ ...restored }, restored)).toBe(true)
    expect(sameSnapshot({ ...restored, value: "online" }, restored)).toBe(false)
  })
})

describe("shareRestoredValues", () => {
  const policy = { offlineAfterMs: 600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000 }
  /** A string equal to `text` but not the same copy. */
  const copy = (text: string) => JSON.parse(JSON.stringify(text)) as string

  it("points equal members at one copy held by the runner, and leaves the snapshot as it was stored", () => {
    const seen = restoreShares()
    const contexts = [0, 1].map(() => ({
      agentId: copy("agent-1"),
      gatewayId: copy("gateway-1"),
      boardId: copy("board-1"),
      spec: { name: "Ada", heartbeat: { every: "10m", target: "none" } },
      policy: { ...policy }
    }))
    const before = JSON.parse(JSON.stringify(contexts)) as unknown
    const ids = { agentId: "agent-1", gatewayId: "gateway-1", policy, seen }
    for (const context of contexts) shareRestoredValues(context, ids)
    expect(contexts[0]!.policy).toBe(policy)
    expect(contexts[1]!.policy).toBe(policy)
    expect(contexts[1]!.boardId).toBe(contexts[0]!.boardId)
    expect(contexts[1]!.spec.heartbeat).toBe(contexts[0]!.spec.heartbeat)
    expect(sameSnapshot(contexts, before)).toBe(true)
  })

  it("keeps a stored policy that differs from the service's, or has other members", () => {
    const changed = { policy: { ...policy, maxAttempts: 9 } }
    const wider = { policy: { ...policy, retired: 1 } }
    const { retryBaseMs: _, ...fewer } = policy
    const narrower = { policy: fewer }
    for (const context of [changed, wider, narrower]) {
      const own = context.policy
      shareRestoredValues(context, { agentId: "a", gatewayId: "g", policy, seen: restoreShares() })
      expect(context.policy).toBe(own)
    }
  })
})
