import { Clock, Context, Effect, Layer } from "effect"
import { ApiError } from "./ApiError.ts"

/** Who failed: the sha256 of the credential presented, and the address it came from. */
export interface AuthClient {
  readonly credentialHash: string
  readonly address: string
}

/** Failed authentications allowed per window: per credential, and per address (any credential). */
export interface AuthFailureLimits {
  readonly windowMs: number
  readonly perCredential: number
  readonly perAddress: number
}

/** 10 failures of one credential, or 50 from one address, per minute. */
export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { windowMs: 60_000, perCredential: 10, perAddress: 50 }

/** Beyond this many counters, expired ones are swept, at most once a second (bounds memory under a flood of distinct wrong tokens). */
const SWEEP_ABOVE = 10_000

/**
 * Rate limiting of failed authentication (401 → 429 with `Retry-After`), keyed on the
 * credential as well as the address, so agents behind one address do not starve each other:
 * - `check` (before the credential is looked up): a credential that failed `perCredential` times
 *   in the window is refused at once, without a database lookup;
 * - `failed` (after a lookup found nothing): counts the failure for the credential and the
 *   address, and answers 429 once either is over its limit, else the given 401.
 * A valid credential is never refused for its address's failures, and success costs one map
 * look-up. Counters are fixed windows in memory, per process.
 */
export class AuthFailureLimiter extends Context.Tag("switchyard/AuthFailureLimiter")<
  AuthFailureLimiter,
  {
    readonly check: (client: AuthClient) => Effect.Effect<void, ApiError>
    readonly failed: (client: AuthClient, unauthorized: ApiError) => Effect.Effect<never, ApiError>
    /** How many counters are held (credentials and addresses). */
    readonly size: Effect.Effect<number>
  }
>() {}

interface Window {
  count: number
  readonly endsAt: number
}

const tooMany = (endsAt: number, now: number) => {
  const seconds = Math.max(1, Math.ceil((endsAt - now) / 1_000))
  return new ApiError({
    status: 429,
    detail: `too many failed authentication attempts; retry after ${seconds} s with a valid token`,
    headers: { "retry-after": String(seconds) }
  })
}

/** A limiter with fresh counters and the given limits. */
export const makeAuthFailureLimiter = (limits: AuthFailureLimits = DEFAULT_AUTH_FAILURE_LIMITS) => {
  const windows = new Map<string, Window>()
  const current = (key: string, now: number) => {
    const window = windows.get(key)
    return window !== undefined && window.endsAt > now ? window : undefined
  }
  const count = (key: string, now: number) => {
    const window = current(key, now) ?? { count: 0, endsAt: now + limits.windowMs }
    window.count += 1
    windows.set(key, window)
    return window
  }
  let sweptAt = 0
  const sweep = (now: number) => {
    if (windows.size <= SWEEP_ABOVE || now - sweptAt < 1_000) return
    sweptAt = now
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key)
  }
  return AuthFailureLimiter.of({
    check: (client) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const window = current(`credential:${client.credentialHash}`, now)
        return window !== undefined && window.count >= limits.perCredential ? Effect.fail(tooMany(window.endsAt, now)) : Effect.void
      }),
    failed: (client, unauthorized) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        sweep(now)
        const credential = count(`credential:${client.credentialHash}`, now)
        const address = count(`address:${client.address}`, now)
        if (credential.count > limits.perCredential) return Effect.fail(tooMany(credential.endsAt, now))
        if (address.count > limits.perAddress) return Effect.fail(tooMany(address.endsAt, now))
        return Effect.fail(unauthorized)
      }),
    size: Effect.sync(() => windows.size)
  })
}

export const AuthFailureLimiterLive = Layer.sync(AuthFailureLimiter, () => makeAuthFailureLimiter())
