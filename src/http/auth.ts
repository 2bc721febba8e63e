import { timingSafeEqual } from "node:crypto"
import { HttpServerRequest } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Option, Redacted } from "effect"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { hashAgentToken } from "../agents/agentTokens.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { AgentTokenCache } from "../agents/AgentTokenCache.ts"
import { ApiError } from "./ApiError.ts"
import { AuthFailureLimiter, type AuthClient } from "./AuthFailureLimiter.ts"

/** The admin token the HTTP layer checks `Authorization: Bearer` against. */
export class AdminToken extends Context.Tag("switchyard/AdminToken")<AdminToken, Redacted.Redacted<string>>() {}

export type Caller = { readonly kind: "admin" } | { readonly kind: "agent"; readonly agentId: string }

const ADMIN: Caller = { kind: "admin" }
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

/**
 * The limiter's key for a presented credential: its sha256 (never the credential) and the
 * caller's address. The address is read when first asked for (only a failure counts it): the
 * platform's `remoteAddress` is read per request, and the first read on a connection is a system call.
 */
export const authClient = (request: HttpServerRequest.HttpServerRequest, credentialHash: string): AuthClient => {
  let address: string | undefined
  return {
    credentialHash,
    get address() {
      return (address ??= Option.getOrElse(request.remoteAddress, () => "unknown"))
    }
  }
}

/**
 * Who is calling: the admin (`Authorization: Bearer <admin token>`, constant-time compare), or
 * an agent (`X-Agent-Token`, or a bearer that is not the admin token): checked against its live
 * actor on this runner when the token was seen before (`AgentTokenCache`), else found in O(1)
 * through the token-hash index. Fails with a 401 ApiError, or 429 (`Retry-After`) once the credential or
 * the address has failed too often (`AuthFailureLimiter`).
 */
export const authenticate: Effect.Effect<Caller, ApiError | SqlError, HttpServerRequest.HttpServerRequest | AdminToken | AuthFailureLimiter | AgentRepo> = Effect.contextWithEffect(
  (context: Context.Context<HttpServerRequest.HttpServerRequest | AdminToken | AuthFailureLimiter>) => {
    // Every request of every agent comes through here: the services are read from the context
    // once and the known-token path runs as plain code, one effect (the limiter's check) deep.
    const request = Context.get(context, HttpServerRequest.HttpServerRequest)
    const token = bearer(request.headers)
    if (token !== undefined && sameSecret(token, Redacted.value(Context.get(context, AdminToken)))) return Effect.succeed(ADMIN)
    const agentToken = request.headers["x-agent-token"] ?? token
    if (agentToken === undefined || agentToken === "") return Effect.fail(unauthorized)
    const tokenHash = hashAgentToken(agentToken)
    const limiter = Context.get(context, AuthFailureLimiter)
    const client = authClient(request, tokenHash)
    const cache = Context.get(context, AgentTokenCache)
    // Optional: a kernel served without the actors (a context's own tests) asks the database.
    const system = Context.getOption(context, AgentSystem)
    return Effect.zipRight(
      limiter.check(client),
      Effect.suspend((): Effect.Effect<Caller, ApiError | SqlError, AgentRepo> => {
        const known = Option.isSome(system) ? cache.verified(tokenHash, system.value.snapshot) : undefined
        if (known !== undefined) return Effect.succeed({ kind: "agent", agentId: known })
        return Effect.flatMap(AgentRepo, (repo) => repo.findIdByTokenHash(tokenHash)).pipe(
          Effect.flatMap((agentId): Effect.Effect<Caller, ApiError> => {
            if (Option.isNone(agentId)) return limiter.failed(client, unauthorized)
            cache.remember(tokenHash, agentId.value)
            return Effect.succeed({ kind: "agent", agentId: agentId.value })
          })
        )
      })
    )
  }
)

/** Only the admin may call; an agent gets 403. */
export const requireAdmin = Effect.flatMap(authenticate, (caller) =>
  caller.kind === "admin" ? Effect.void : Effect.fail(new ApiError({ status: 403, detail: "admin token required" }))
)

/** Only an agent may call (`X-Agent-Token`); returns its id. */
export const requireAgent = Effect.flatMap(authenticate, (caller) =>
  caller.kind === "agent" ? Effect.succeed(caller.agentId) : Effect.fail(new ApiError({ status: 403, detail: "agent token required" }))
)
