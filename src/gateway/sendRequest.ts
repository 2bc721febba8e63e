import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import type { ConnectionFailure } from "./connectParams.ts"
import type { GatewayConnection } from "./GatewayConnection.ts"
import { GatewayConnectionError, GatewayPairingRequired, GatewayProtocolError, GatewayTimeoutError, rpcError, type GatewayError } from "./GatewayError.ts"
import { Methods, type Method, type MethodResult } from "./protocol.ts"

/** A thrown socket failure as a typed one: anything but a connection error or a pairing request is "unreachable". */
export const asFailure = (error: unknown): ConnectionFailure =>
  error instanceof GatewayConnectionError || error instanceof GatewayPairingRequired
    ? error
    : new GatewayConnectionError({ reason: "unreachable", message: String(error), retryable: true })

/**
 * One request frame on `connection` and its decoded answer (docs/gateway-protocol.md §1): the
 * result parsed with the method's zod schema, `ok:false` as `rpcError`, a result of another
 * shape as `GatewayProtocolError`, nothing within `timeoutMs` (ms) as `GatewayTimeoutError`.
 * Interruption cancels the pending request. The timeout is a timer that fails the pending
 * request, not an interruption: a call made in an uninterruptible region (an `agents.create`
 * that must run until the agent is usable) is bounded in time too.
 */
export const sendRequest = <M extends Method>(
  connection: GatewayConnection,
  method: M,
  body: Record<string, unknown>,
  timeoutMs: number
): Effect.Effect<MethodResult<M>, GatewayError> =>
  Effect.async<MethodResult<M>, GatewayError>((resume, signal) => {
    const id = randomUUID()
    const gaveUp = new AbortController()
    const giveUp = () => gaveUp.abort()
    signal.addEventListener("abort", giveUp, { once: true })
    let settled = false
    const settle = (effect: Effect.Effect<MethodResult<M>, GatewayError>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener("abort", giveUp)
      resume(effect)
    }
    const timer = setTimeout(() => {
      gaveUp.abort()
      connection.cancel(id)
      settle(Effect.fail(new GatewayTimeoutError({ method, timeoutMs })))
    }, timeoutMs)
    connection.request(id, method, body, gaveUp.signal).then(
      (frame) => {
        if (!frame.ok) return settle(Effect.fail(rpcError(method, frame.error ?? { code: "UNKNOWN", message: "ok:false without error" }, frame.payload)))
        const decoded = Methods[method].result.safeParse(frame.payload)
        settle(
          decoded.success
            ? Effect.succeed(decoded.data as MethodResult<M>)
            : Effect.fail(new GatewayProtocolError({ method, message: `unexpected ${method} result: ${decoded.error.issues[0]?.message ?? "invalid"}` }))
        )
      },
      (error: unknown) => settle(Effect.fail(asFailure(error)))
    )
    return Effect.sync(() => {
      settled = true
      clearTimeout(timer)
      connection.cancel(id)
    })
  })
