import { Effect, Option, Redacted } from "effect"
import type { ApplyInput, TokenSource } from "../../../machines/agent/agentTypes.ts"
import type { GatewayError } from "../../gateway/GatewayError.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { readAuthToken } from "../../templates/readAuthToken.ts"
import { hashAgentToken, mintAgentToken } from "../agentTokens.ts"

/** Whether the apply keeps the workspace's token (it reads AGENTS.md back) rather than minting one. */
export const wantsRecovery = (input: ApplyInput) => !input.request.rotateToken && input.tokenHash !== null

/**
 * The token an apply writes into the workspace. With `rotateToken` false and a known hash, the
 * token already in the agent's AGENTS.md is read back (`agentsMd`: its content, undefined when
 * the workspace has none; the apply reads it with `agents.files.get`) and kept when it
 * matches the stored hash (template sync without rotation; docs/operations.md §6.8). Otherwise a
 * new one is minted, and its hash staged before any file holds it, so the agent can
 * authenticate as soon as it reads it. An earlier apply interrupted after it staged a token (a
 * second update, a new owner after a crash) may have written it already: when AGENTS.md holds the
 * staged token, it is kept rather than replaced, so a token the agent can read never answers 401
 * (docs/architecture.md §5.3). The token stays Redacted; only its hash leaves.
 * Errors: GatewayError, SqlError.
 */
export const agentToken = Effect.fn("Agents.agentToken")(function* <R>(
  input: ApplyInput,
  agentsMd: Effect.Effect<string | undefined, GatewayError, R>
) {
  const repo = yield* AgentRepo
  const readHeld = Effect.map(agentsMd, (content) => (content === undefined ? undefined : readAuthToken(content)))
  let source: TokenSource = "minted"
  let held: Option.Option<string | undefined> = Option.none()
  if (!input.request.rotateToken && input.tokenHash !== null) {
    const existing = yield* readHeld
    held = Option.some(existing)
    if (existing !== undefined && hashAgentToken(existing) === input.tokenHash) {
      return { token: Redacted.make(existing), hash: input.tokenHash, source: "recovered" as TokenSource }
    }
    source = existing === undefined ? "missing" : "mismatch"
  }
  const staged = yield* repo.stagedTokenHash(input.agentId)
  if (Option.isSome(staged) && staged.value !== input.tokenHash) {
    const existing = Option.isSome(held) ? held.value : yield* readHeld
    if (existing !== undefined && hashAgentToken(existing) === staged.value) {
      return { token: Redacted.make(existing), hash: staged.value, source }
    }
  }
  if (source !== "minted") yield* Effect.logWarning(`agent ${input.agentId}: the token in its AGENTS.md is ${source}; minting a new one`)
  const minted = mintAgentToken()
  yield* repo.stagePendingToken(input.agentId, minted.hash)
  return { token: minted.token, hash: minted.hash, source }
})
