import { timingSafeEqual } from "node:crypto"
import { HttpServerRequest } from "@effect/platform"
import { Context, Effect, Option, Redacted } from "effect"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { hashAgentToken } from "../agents/agentTokens.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { AgentTokenCache } from "./AgentTokenCache.ts"
import { ApiError } from "./ApiError.ts"
import { AuthFailureLimiter, type AuthClient } from "./AuthFailureLimiter.ts"

/** The admin token the HTTP layer checks `Authorization: Bearer` against. */
export class AdminToken extends Context.Tag("switchyard/AdminToken")<AdminToken, Redacted.Redacted<string>>() {}

export type Caller = { readonly kind: "admin" } | { readonly kind: "agent"; readonly agentId: string }

const unauthorized = new ApiError({ status: 401, detail: "missing or invalid credentials" })

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

const bearer = (headers: Readonly<Record<string, string | undefined>>) => {
  const value = headers["authorization"]
  return value !== undefined && value.toLowerCase().startsWith("bearer ") ? value.slice(7).trim() : undefined
}

/** The limiter's key for a presented credential: its sha256 (never the credential) and the caller's address. */
export const authClient = (request: HttpServerRequest.HttpServerRequest, credentialHash: string): AuthClient => ({
  credentialHash,
  address: Option.getOrElse(request.remoteAddress, () => "unknown")
})

/**
 * Who is calling: the admin (`Authorization: Bearer <admin token>`, constant-time compare), or
 * an agent (`X-Agent-Token`, or a bearer that is not the admin token): checked against its live
 * actor on this runner when the token was seen before (`AgentTokenCache`), else found in O(1)
 * through the token-hash index. Fails with a 401 ApiError, or 429 (`Retry-After`) once the credential or
 * the address has failed too often (`AuthFailureLimiter`).
 */
export const authenticate = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const admin = yield* AdminToken
  const token = bearer(request.headers)
  if (token !== undefined && sameSecret(token, Redacted.value(admin))) return { kind: "admin" } as Caller
  const agentToken = request.headers["x-agent-token"] ?? token
  if (agentToken === undefined || agentToken === "") return yield* unauthorized
  const tokenHash = hashAgentToken(agentToken)
  const limiter = yield* AuthFailureLimiter
  const client = authClient(request, tokenHash)
  yield* limiter.check(client)
  const cache = yield* AgentTokenCache
  // Optional: a kernel served without the actors (a context's own tests) asks the database.
  const system = yield* Effect.serviceOption(AgentSystem)
  const known = Option.isSome(system) ? cache.verified(tokenHash, system.value.snapshot) : undefined
  if (known !== undefined) return { kind: "agent", agentId: known } as Caller
  const repo = yield* AgentRepo
  const agentId = yield* repo.findIdByTokenHash(tokenHash)
  if (Option.isNone(agentId)) return yield* limiter.failed(client, unauthorized)
  cache.remember(tokenHash, agentId.value)
  return { kind: "agent", agentId: agentId.value } as Caller
})

/** Only the admin may call; an agent gets 403. */
export const requireAdmin = Effect.flatMap(authenticate, (caller) =>
  caller.kind === "admin" ? Effect.void : Effect.fail(new ApiError({ status: 403, detail: "admin token required" }))
)

/** Only an agent may call (`X-Agent-Token`); returns its id. */
export const requireAgent = Effect.flatMap(authenticate, (caller) =>
  caller.kind === "agent" ? Effect.succeed(caller.agentId) : Effect.fail(new ApiError({ status: 403, detail: "agent token required" }))
)
