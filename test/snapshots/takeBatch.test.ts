import { describe, expect, it } from "vitest"
import type { AgentProjection } from "../../src/agents/agentProjection.ts"
import type { AgentWrite } from "../../src/snapshots/AgentWrite.ts"
import { MAX_BATCH, takeBatch } from "../../src/snapshots/takeBatch.ts"

const queued = (agentId: string, version = 1) => ({
  write: { agentId, version, projection: {} as AgentProjection, snapshot: {}, activity: [], transitions: [], beat: undefined, pruneTo: undefined } satisfies AgentWrite
})
const ids = (writes: ReadonlyArray<ReturnType<typeof queued>>) => writes.map(({ write }) => `${write.agentId}@${write.version}`)

describe("takeBatch", () => {
  it("leaves queued, in order, the writes of agents in a batch in flight and a second write of an agent already taken", () => {
    const { batch, rest, full } = takeBatch([queued("a"), queued("busy"), queued("b"), queued("a", 2), queued("c")], new Set(["busy"]))
    expect(ids(batch)).toEqual(["a@1", "b@1", "c@1"])
    expect(ids(rest)).toEqual(["busy@1", "a@2"])
    expect(full).toBe(false)
  })

  it("stops at MAX_BATCH writes and says the batch is full", () => {
    const pending = Array.from({ length: MAX_BATCH + 2 }, (_, n) => queued(`agent-${n}`))
    const { batch, rest, full } = takeBatch(pending, new Set())
    expect(batch).toHaveLength(MAX_BATCH)
    expect(ids(rest)).toEqual([`agent-${MAX_BATCH}@1`, `agent-${MAX_BATCH + 1}@1`])
    expect(full).toBe(true)
  })
})
