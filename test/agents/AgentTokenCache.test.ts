import { describe, expect, it } from "vitest"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import { makeAgentTokenCache } from "../../src/agents/AgentTokenCache.ts"

/** A live actor's snapshot as the cache reads it: its status and the token hash in its context. */
const actor = (tokenHash: string | null, status: "active" | "done" = "active") => ({ status, context: { tokenHash } }) as unknown as AgentSnapshot

describe("AgentTokenCache (token hash → agent, checked against the live actor)", () => {
  it("names the agent the database named while its live actor holds that token", () => {
    const cache = makeAgentTokenCache()
    cache.remember("h1", "agent-1")
    expect(cache.verified("h1", (id) => (id === "agent-1" ? actor("h1") : undefined))).toBe("agent-1")
  })

  it("names nobody for a token never looked up", () => {
    expect(makeAgentTokenCache().verified("h1", () => actor("h1"))).toBeUndefined()
  })

  it("names nobody once the actor's token changed (rotated), its actor finished (deleted) or runs elsewhere", () => {
    const cache = makeAgentTokenCache()
    cache.remember("h1", "agent-1")
    expect(cache.verified("h1", () => actor("h2"))).toBeUndefined()
    expect(cache.verified("h1", () => actor("h1", "done"))).toBeUndefined()
    expect(cache.verified("h1", () => undefined)).toBeUndefined()
  })

  it("stays bounded: past its size it starts afresh", () => {
    const cache = makeAgentTokenCache(2)
    cache.remember("h1", "agent-1")
    cache.remember("h2", "agent-2")
    cache.remember("h3", "agent-3")
    const live = () => actor("h1")
    expect(cache.verified("h1", live)).toBeUndefined()
    expect(cache.verified("h3", () => actor("h3"))).toBe("agent-3")
  })
})
