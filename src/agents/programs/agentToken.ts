import { Effect, Redacted } from "effect"
import type { ApplyInput, TokenSource } from "../../../machines/agent/agentTypes.ts"
import type { GatewayTarget } from "../../gateway/GatewayClient.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { readAuthToken } from "../../templates/readAuthToken.ts"
import { hashAgentToken, mintAgentToken } from "../agentTokens.ts"
import { gatewayCall } from "./gatewayCall.ts"

/**
 * The token an apply writes into the workspace. With `rotateToken` false and a known hash, the
 * token already in the agent's AGENTS.md is read back (`agents.files.get`) and kept when it
 * matches the stored hash (template sync without rotation; docs/operations.md §6.8). Otherwise a
 * new one is minted, and its hash staged before any file holds it, so the agent can
 * authenticate as soon as it reads it. The token stays Redacted; only its hash leaves.
 * Errors: GatewayError, SqlError.
 */
export const agentToken = Effect.fn("Agents.agentToken")(function* (
  target: GatewayTarget,
  input: ApplyInput,
  agentsMdExists: boolean
) {
  let source: TokenSource = "minted"
  if (!input.request.rotateToken && input.tokenHash !== null) {
    const file = agentsMdExists
      ? yield* gatewayCall(target, "agents.files.get", { agentId: input.gatewayAgentId, name: "AGENTS.md" })
      : undefined
    const existing = file?.file.content === undefined ? undefined : readAuthToken(file.file.content)
    if (existing !== undefined && hashAgentToken(existing) === input.tokenHash) {
      return { token: Redacted.make(existing), hash: input.tokenHash, source: "recovered" as TokenSource }
    }
    source = existing === undefined ? "missing" : "mismatch"
    yield* Effect.logWarning(`agent ${input.agentId}: the token in its AGENTS.md is ${source}; minting a new one`)
  }
  const minted = mintAgentToken()
  yield* Effect.flatMap(AgentRepo, (repo) => repo.stagePendingToken(input.agentId, minted.hash))
  return { token: minted.token, hash: minted.hash, source }
})
