import { Cause, Effect, Exit, Option } from "effect"
import type { ConnectionStatus } from "./GatewayConnection.ts"
import type { GatewayError } from "./GatewayError.ts"
import { configPatchEntries, configPatches, gatewayReconnects, gatewayRpcDuration, gatewayRpcErrors } from "../observability/metrics.ts"

/** The `code` label of a failed RPC: the gateway's own code, or what kind of failure it was. */
export const rpcErrorCode = (error: GatewayError): string => {
  switch (error._tag) {
    case "GatewayRpcError":
      return error.code
    case "GatewayTimeoutError":
      return "TIMEOUT"
    case "GatewayConnectionError":
      return `CONNECTION_${error.reason.toUpperCase()}`
    case "GatewayProtocolError":
      return "PROTOCOL"
    case "GatewayPairingRequired":
      return "NOT_PAIRED"
  }
}

/**
 * Times one gateway RPC (by method and outcome) and counts its failure by code; `onOk` is also
 * told how long a successful call took (ms). A call its caller interrupted counts as neither:
 * the gateway did nothing wrong.
 */
export const measureRpc =
  (method: string, onOk?: (ms: number) => void) =>
  <A, R>(call: Effect.Effect<A, GatewayError, R>): Effect.Effect<A, GatewayError, R> =>
    Effect.suspend(() => {
      const started = performance.now()
      const seconds = () => (performance.now() - started) / 1_000
      return Effect.onExit(call, (exit) =>
        Effect.sync(() => {
          if (Exit.isSuccess(exit)) {
            const elapsed = seconds()
            onOk?.(elapsed * 1_000)
            return gatewayRpcDuration.observe({ method, outcome: "ok" }, elapsed)
          }
          const failure = Cause.failureOption(exit.cause)
          if (Option.isNone(failure)) return
          gatewayRpcDuration.observe({ method, outcome: "error" }, seconds())
          gatewayRpcErrors.inc({ method, code: rpcErrorCode(failure.value) })
        })
      )
    })

/**
 * A connection's `onStatus` that counts reconnects: every `ready` after the first on that
 * connection is a socket re-established after it was lost.
 */
export const countReconnects = (gatewayId: string) => {
  let readyBefore = false
  return (status: ConnectionStatus): void => {
    if (status !== "ready") return
    if (readyBefore) gatewayReconnects.inc({ gateway_id: gatewayId })
    readyBefore = true
  }
}

/** One `config.patch` was written, carrying `entries` agent entries. */
export const recordConfigPatch = (entries: number): Effect.Effect<void> =>
  Effect.sync(() => {
    configPatches.inc()
    configPatchEntries.observe(entries)
  })
