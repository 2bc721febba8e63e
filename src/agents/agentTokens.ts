import { hash, randomBytes } from "node:crypto"
import { Redacted } from "effect"

/**
 * Agent tokens are 256-bit random values, so an unsalted sha256 is a sound verifier and lets a
 * unique index find the agent in O(1) (docs/operations.md §6.10: checking a salted hash against
 * every agent in turn grows with the fleet). Only the hash is ever stored. Node's one-shot
 * `crypto.hash` (no Hash object per call): every agent request hashes its token.
 */
export const hashAgentToken = (token: string): string => hash("sha256", token, "hex")

/** A fresh token (`sy_` + 43 base64url chars) and its hash; the token stays `Redacted`. */
export const mintAgentToken = (): { readonly token: Redacted.Redacted<string>; readonly hash: string } => {
  const raw = `sy_${randomBytes(32).toString("base64url")}`
  return { token: Redacted.make(raw), hash: hashAgentToken(raw) }
}
