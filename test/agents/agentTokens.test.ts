import { createHash } from "node:crypto"
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { hashAgentToken, mintAgentToken } from "../../src/agents/agentTokens.ts"

describe("agentTokens", () => {
  it("hashes a token to the hex sha256 of its UTF-8 bytes, what the token_hash column holds", () => {
    const token = "sy_Zoë-✓-token"
    expect(hashAgentToken(token)).toBe(createHash("sha256").update(Buffer.from(token, "utf8")).digest("hex"))
  })

  it("mints a token with its hash", () => {
    const { token, hash } = mintAgentToken()
    expect(Redacted.value(token)).toMatch(/^sy_[A-Za-z0-9_-]{43}$/)
    expect(hash).toBe(hashAgentToken(Redacted.value(token)))
  })
})
