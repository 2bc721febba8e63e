import { randomBytes } from "node:crypto"
import { Redacted } from "effect"
import { hashAgentToken } from "../agents/agentTokens.ts"

/**
 * Inbox keys (`X-Api-Key`) are `oc-` + 32 random bytes in base64url, Clawith's shape. They are
 * 256-bit random values, so an unsalted sha256 is a sound verifier and a unique index finds the
 * agent in O(1); only the hash is stored, and the stored hash is never accepted as a key
 * (docs/operations.md §6.16). The same verifier as agent tokens (src/agents/agentTokens.ts), for the same reason.
 */
export const hashInboxKey: (key: string) => string = hashAgentToken

/** A fresh key and its hash; the key stays `Redacted` until it is shown, once. */
export const mintInboxKey = (): { readonly key: Redacted.Redacted<string>; readonly hash: string } => {
  const raw = `oc-${randomBytes(32).toString("base64url")}`
  return { key: Redacted.make(raw), hash: hashInboxKey(raw) }
}
