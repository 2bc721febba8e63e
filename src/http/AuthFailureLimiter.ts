import { Clock, Context, Effect, Layer } from "effect"
import { AuthFailureRepo, type AuthFailureRepoShape } from "../store/AuthFailureRepo.ts"
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

/** Longest wait for the shared count before a failure is counted on this runner only. */
const SHARED_TIMEOUT = "1 second"

/**
 * Rate limiting of failed authentication (401 → 429 with `Retry-After`), keyed on the
 * credential as well as the address, so agents behind one address do not starve each other:
 * - `check` (before the credential is looked up): a credential that failed `perCredential` times
 *   in the window is refused at once, without a database lookup;
 * - `failed` (after a lookup found nothing): counts the failure for the credential and the
 *   address, and answers 429 once either is over its limit, else the given 401.
 * A valid credential is never refused for its address's failures, and success costs one map
 * look-up. Counters are fixed windows, starting at a client's first failure. With `shared`
 * (`AuthFailureRepo`), `failed` also counts in Postgres, one statement, and takes the cluster's
 * counts, so a client is limited across runners as by one process; `check` stays in memory (a
 * runner refuses a credential early once it has seen it over the limit), and so do the failures
 * of an address this runner already holds over its limit (at most `perAddress` statements per
 * address, window and runner under a flood). If the database does
 * not answer within 1 s, the failure is counted here only (docs/architecture.md §7.2).
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

/** A limiter with fresh counters and the given limits; with `shared`, failures are counted across the cluster too. */
export const makeAuthFailureLimiter = (limits: AuthFailureLimits = DEFAULT_AUTH_FAILURE_LIMITS, shared?: AuthFailureRepoShape) => {
  const windows = new Map<string, Window>()
  const current = (key: string, now: number) => {
    const window = windows.get(key)
    return window !== undefined && window.endsAt > now ? window : undefined
  }
  const overLimit = (key: string, limit: number, now: number) => {
    const window = current(key, now)
    return window !== undefined && window.count > limit ? window : undefined
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
  // The shared windows that ended are deleted by whichever runner fails a client next, at most once a window.
  let sharedSweptAt = Number.NEGATIVE_INFINITY
  /** Counts the failure in the shared table and adopts its windows (the cluster's counts); local counts if the database fails. */
  const countShared = (subjects: ReadonlyArray<string>, now: number) => {
    if (shared === undefined) return Effect.void
    const sweepShared = now - sharedSweptAt < limits.windowMs ? Effect.void : Effect.zipRight(Effect.sync(() => (sharedSweptAt = now)), shared.sweep(now))
    return shared.count(subjects, now, limits.windowMs).pipe(
      Effect.timeout(SHARED_TIMEOUT),
      Effect.tap((counts) => {
        for (const { subject, count, endsAt } of counts) windows.set(subject, { count: Math.max(count, current(subject, now)?.count ?? 0), endsAt })
      }),
      Effect.zipRight(sweepShared),
      Effect.catchAll((error) => Effect.logWarning("counting a failed authentication in the database failed; counted on this runner only", error))
    )
  }
  return AuthFailureLimiter.of({
    check: (client) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const window = current(`credential:${client.credentialHash}`, now)
        return window !== undefined && window.count >= limits.perCredential ? Effect.fail(tooMany(window.endsAt, now)) : Effect.void
      }),
    failed: (client, unauthorized) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        sweep(now)
        const credential = `credential:${client.credentialHash}`
        const address = `address:${client.address}`
        count(credential, now)
        count(address, now)
        // An address already over its limit here answers 429 whatever the cluster says: a flood costs no statement.
        if (overLimit(address, limits.perAddress, now) === undefined) yield* countShared([credential, address], now)
        const over = overLimit(credential, limits.perCredential, now) ?? overLimit(address, limits.perAddress, now)
        return yield* over === undefined ? unauthorized : tooMany(over.endsAt, now)
      }),
    size: Effect.sync(() => windows.size)
  })
}

/** The limiter with the default limits, counting failures across the cluster through `AuthFailureRepo`. */
export const AuthFailureLimiterLive = Layer.effect(
  AuthFailureLimiter,
  Effect.map(AuthFailureRepo, (repo) => makeAuthFailureLimiter(DEFAULT_AUTH_FAILURE_LIMITS, repo))
)
