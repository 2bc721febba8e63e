import { describe, expect, it } from "vitest"
import { makeHarness, terminalError } from "./agentHarness.ts"

const online = (h: ReturnType<typeof makeHarness>) => {
  h.advance(20)
  h.send({ type: "agent.heartbeat", at: h.now() })
  expect(h.state()).toBe('"online"')
}

describe("the last template sync update (context.syncedBy, docs/architecture.md §9.2)", () => {
  it("records the job and the generation its update started, and keeps them through later updates and retries", () => {
    const h = makeHarness({ apply: ["done", "done", terminalError("apply")] })
    online(h)
    expect(h.context().syncedBy).toBeUndefined()
    h.send({ type: "agent.update", at: h.now(), changes: {}, force: true, options: { wake: false, syncJob: "job-1" } })
    expect(h.context()).toMatchObject({ generation: 2, syncedBy: { job: "job-1", generation: 2 } })
    h.advance(20)
    // An operator's update (no job) fails; its retry: neither is the sync's.
    h.send({ type: "agent.update", at: h.now(), changes: { name: "Ada L." } })
    h.advance(10)
    expect(h.state()).toBe('{"updating":"failed"}')
    h.send({ type: "agent.retry", at: h.now() })
    expect(h.context()).toMatchObject({ generation: 4, syncedBy: { job: "job-1", generation: 2 } })
    expect(h.context().request.syncJob).toBeUndefined()
  })

  it("an agent restored from a snapshot without the field has none, and takes the next sync's", () => {
    const first = makeHarness()
    online(first)
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as { context: Record<string, unknown> }
    expect("syncedBy" in persisted.context).toBe(false)
    first.actor.stop()
    const h = makeHarness({ snapshot: persisted as never, start: first.now() + 1_000 })
    expect(h.state()).toBe('"online"')
    expect(h.context().syncedBy).toBeUndefined()
    h.send({ type: "agent.update", at: h.now(), changes: {}, force: true, options: { wake: false, syncJob: "job-2" } })
    expect(h.context().syncedBy).toEqual({ job: "job-2", generation: 2 })
  })
})
