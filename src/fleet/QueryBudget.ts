import { Clock, Effect } from "effect"
import { GatewayTimeoutError, isTransient, type GatewayError } from "../gateway/GatewayError.ts"
import { operatorQuery, retryOnFailure } from "../gateway/retryPolicies.ts"

/**
 * The time one operator answer may spend on its gateway (docs/operations.md §6.7): every gateway
 * call of the answer, retries included, ends by `deadline`.
 */
export interface QueryBudget {
  /** The whole answer's bound, ms (`min(10 s, gatewayCallTimeoutMs)`). */
  readonly budgetMs: number
  /** Epoch ms on the Effect `Clock`. */
  readonly deadline: number
}

/** A budget of `budgetMs` (ms) that starts now. */
export const startBudget = (budgetMs: number): Effect.Effect<QueryBudget> =>
  Effect.map(Clock.currentTimeMillis, (now) => ({ budgetMs, deadline: now + budgetMs }))

/**
 * One gateway call of an operator answer: `attempt` gets what is left of `budget` as its timeout
 * (ms), and a transient failure (`isTransient`: `UNAVAILABLE`, `retryable: true`, a lost socket;
 * docs/gateway-protocol.md §2.5, §9) is retried on the `operatorQuery` schedule, which honours
 * `retryAfterMs` and starts no attempt after the deadline. Errors: the last attempt's
 * `GatewayError`; a call the deadline cut short is a `GatewayTimeoutError` of `method` carrying
 * the whole `budgetMs`.
 */
export const withinBudget = <A, E extends GatewayError, R>(
  budget: QueryBudget,
  method: string,
  attempt: (timeoutMs: number) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | GatewayTimeoutError, R> => {
  const cutShort = new GatewayTimeoutError({ method, timeoutMs: budget.budgetMs })
  const once = Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<A, E | GatewayTimeoutError, R> => {
    const leftMs = budget.deadline - now
    return leftMs > 0 ? attempt(leftMs) : Effect.fail(cutShort)
  }).pipe(Effect.mapError((error): E | GatewayTimeoutError => (error._tag === "GatewayTimeoutError" ? cutShort : error)))
  // Whether an attempt of this call reached the gateway (it answered, refused or closed the socket).
  let reached = false
  const worthIt = (error: GatewayError) => {
    const again = worthAnotherAttempt(error, reached)
    if (!isUnreachable(error)) reached = true
    return again
  }
  return once.pipe(retryOnFailure<GatewayError>({ schedule: operatorQuery(budget.deadline), while: worthIt }))
}

const isUnreachable = (error: GatewayError) => error._tag === "GatewayConnectionError" && error.reason === "unreachable"

/**
 * Whether an operator answer asks its gateway again (docs/operations.md §6.7): a transient failure,
 * except a socket that could not be opened at all on the first try (`reached`: an earlier attempt
 * of this call got an answer, a refusal or a close). A gateway that is down (refused, no route) is
 * answered at once, not after the whole budget; one that refuses connections while it restarts
 * after closing the socket (1012) is asked again.
 */
export const worthAnotherAttempt = (error: GatewayError, reached: boolean): boolean => isTransient(error) && (reached || !isUnreachable(error))
