import { createHash, randomBytes } from "node:crypto"
import { Redacted } from "effect"

/**
 * Agent tokens are 256-bit random values, so an unsalted sha256 is a sound verifier and lets a
 * unique index find the agent in O(1) (peers-and-performance §3.3; Mission Control's O(N)
 * PBKDF2 scan took ~10 s per request at 33 agents). Only the hash is ever stored.
 */
export const hashAgentToken = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex")

/** A fresh token (`sy_` + 43 base64url chars) and its hash; the token stays `Redacted`. */
export const mintAgentToken = (): { readonly token: Redacted.Redacted<string>; readonly hash: string } => {
  const raw = `sy_${randomBytes(32).toString("base64url")}`
  return { token: Redacted.make(raw), hash: hashAgentToken(raw) }
}
