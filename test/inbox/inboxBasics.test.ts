import { createHash } from "node:crypto"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { hashInboxKey, mintInboxKey } from "../../src/inbox/inboxKey.ts"
import { inboxScopeOf } from "../../src/inbox/inboxScope.ts"
import { HEARTBEAT_ADDITION, setupGuide } from "../../src/inbox/setupGuide.ts"

describe("inbox keys", () => {
  it("are oc- + 32 random bytes in base64url, redacted, with their sha256 hex as the stored verifier", () => {
    const minted = mintInboxKey()
    const key = Redacted.value(minted.key)
    expect(key).toMatch(/^oc-[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(key.slice(3), "base64url")).toHaveLength(32)
    expect(minted.hash).toBe(createHash("sha256").update(key).digest("hex"))
    expect(hashInboxKey(key)).toBe(minted.hash)
    expect(String(minted.key)).not.toContain(key)
    expect(new Set(Array.from({ length: 50 }, () => Redacted.value(mintInboxKey().key))).size).toBe(50)
  })
})

describe("inbox scope", () => {
  it("is the gateway for the main agent, the board for a board agent, nothing for an agent on neither", () => {
    expect(inboxScopeOf({ role: "main", boardId: null, gatewayId: "g" })).toEqual({ kind: "gateway", gatewayId: "g" })
    expect(inboxScopeOf({ role: "lead", boardId: "b", gatewayId: "g" })).toEqual({ kind: "board", boardId: "b" })
    expect(inboxScopeOf({ role: "worker", boardId: "b", gatewayId: "g" })).toEqual({ kind: "board", boardId: "b" })
    expect(inboxScopeOf({ role: "worker", boardId: null, gatewayId: "g" })).toBeUndefined()
  })
})

describe("setup guide", () => {
  it("renders the skill with the given base URL, the agent and the lease, and never a key", async () => {
    const guide = await Effect.runPromise(setupGuide({ agentName: "Ada", agentId: "a-1", baseUrl: "https://sy.example", leaseMs: 90_000 }))
    expect(guide.skill_filename).toBe("switchyard_inbox.md")
    expect(guide.heartbeat_addition).toBe(HEARTBEAT_ADDITION)
    expect(guide.skill_content).toMatch(/^---\nname: switchyard_inbox\n/)
    expect(guide.skill_content).toContain('export SWITCHYARD_URL="https://sy.example"')
    expect(guide.skill_content).toContain("Switchyard inbox: Ada")
    expect(guide.skill_content).toContain("`a-1`")
    expect(guide.skill_content).toContain("90 seconds")
    expect(guide.skill_content).not.toMatch(/oc-[A-Za-z0-9_-]{43}/)
  })
})
