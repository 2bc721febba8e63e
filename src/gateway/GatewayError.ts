import { Data } from "effect"
import type { ErrorShape } from "./protocol.ts"

/**
 * What a gateway RPC failure means to Switchyard. The gateway reports most conditions only as
 * `INVALID_REQUEST` plus a message (docs/gateway-protocol.md §3, §5), so this is the one place where
 * message text is read; everything else branches on `kind`.
 */
export type RpcErrorKind =
  | "agent_not_found"
  | "agent_exists"
  | "unsupported_file"
  | "file_conflict"
  | "config_conflict"
  | "config_base_hash_required"
  | "main_session"
  | "missing_scope"
  | "rate_limited"
  | "chat_run_failed"
  | "unavailable"
  | "invalid_request"
  | "other"

/** The gateway answered `ok:false` (docs/gateway-protocol.md §3). */
export class GatewayRpcError extends Data.TaggedError("GatewayRpcError")<{
  readonly method: string
  readonly code: string
  readonly kind: RpcErrorKind
  readonly message: string
  readonly retryable: boolean
  readonly retryAfterMs?: number | undefined
  readonly details?: unknown
}> {}

/**
 * The socket could not be opened, the handshake failed, or it closed under a pending call; or
 * (`retargeted`) the gateway's socket was dropped (`GatewayClient.forget`: its url or token changed,
 * it moved or went away) under the call, or the call's pinned target is stale (`GatewayTarget.generation`).
 */
export class GatewayConnectionError extends Data.TaggedError("GatewayConnectionError")<{
  readonly reason: "unreachable" | "closed" | "handshake" | "auth" | "retargeted"
  readonly message: string
  readonly closeCode?: number | undefined
  readonly retryable: boolean
  readonly retryAfterMs?: number | undefined
}> {}

/** No response within the per-call timeout (`CLIENT_TIMEOUT` in OpenClaw's own client, docs/gateway-protocol.md §1). */
export class GatewayTimeoutError extends Data.TaggedError("GatewayTimeoutError")<{
  readonly method: string
  readonly timeoutMs: number
}> {}

/** A frame or payload did not match the protocol schema: a version drift, never retried. */
export class GatewayProtocolError extends Data.TaggedError("GatewayProtocolError")<{
  readonly method: string
  readonly message: string
}> {}

/**
 * A remote gateway refused `connect` with `NOT_PAIRED` / `details.code: "PAIRING_REQUIRED"`
 * (docs/gateway-protocol.md §0.4, §3): this device identity waits for an operator to approve
 * `requestId` (`openclaw devices approve <requestId>` or the `device.pair.approve` RPC).
 * Retrying does not help until then, so it is never transient. `reason` is the gateway's
 * (`not-paired`, or an upgrade such as `scope-upgrade`).
 */
export class GatewayPairingRequired extends Data.TaggedError("GatewayPairingRequired")<{
  readonly requestId: string | undefined
  readonly deviceId: string
  readonly reason: string | undefined
}> {
  override get message(): string {
    return `waiting for pairing approval, request id ${this.requestId ?? "(none reported)"}`
  }
}

/**
 * The gateway error family: every class a gateway call may fail with. `GatewayError` and
 * `isGatewayError` derive from this list, so a class added here is a `GatewayError` everywhere.
 */
const GATEWAY_ERRORS = [GatewayRpcError, GatewayConnectionError, GatewayTimeoutError, GatewayProtocolError, GatewayPairingRequired] as const

export type GatewayError = InstanceType<(typeof GATEWAY_ERRORS)[number]>

/** Whether `error` belongs to the gateway error family (retry with `isTransient`, describe with `describeGatewayError`). */
export const isGatewayError = (error: unknown): error is GatewayError => GATEWAY_ERRORS.some((family) => error instanceof family)

/** Close codes after which a reconnect is expected to succeed (docs/gateway-protocol.md §1). */
const TRANSIENT_CLOSE_CODES = new Set([1001, 1006, 1011, 1012, 1013, 4000, 4001])

export const isTransientCloseCode = (code: number): boolean => TRANSIENT_CLOSE_CODES.has(code)

/**
 * Transient errors are worth retrying with backoff: socket loss, restarts (1012), policy
 * changes (4001), `retryable:true`, `UNAVAILABLE`, rate limits and timeouts. Everything else
 * (bad params, missing scope, unsupported file) is terminal and goes to the agent machine.
 */
export const isTransient = (error: GatewayError): boolean => {
  switch (error._tag) {
    case "GatewayTimeoutError":
      return true
    case "GatewayConnectionError":
      return error.retryable
    case "GatewayRpcError":
      return error.kind !== "chat_run_failed" && (error.retryable || error.kind === "unavailable" || error.kind === "rate_limited")
    case "GatewayProtocolError":
    case "GatewayPairingRequired":
      return false
  }
}

/**
 * Whether a call failed because its gateway was retargeted under it (in flight at the PATCH, or its
 * pinned target is stale). A retry of that call with the same target would reach the old address,
 * so it is not `isTransient`; the caller's work is worth another attempt that reads the gateway anew
 * (a machine step, a ledger delivery, a read; docs/architecture.md §9.1 "Update").
 */
export const isRetargeted = (error: GatewayError): boolean => error._tag === "GatewayConnectionError" && error.reason === "retargeted"

const detailCode = (details: unknown): string | undefined =>
  typeof details === "object" && details !== null && "code" in details && typeof details.code === "string"
    ? details.code
    : undefined

const detailType = (details: unknown): string | undefined =>
  typeof details === "object" && details !== null && "type" in details && typeof details.type === "string"
    ? details.type
    : undefined

/** The gateway's client-retry marks on a `chat.send` set-up failure before the ack (docs/gateway-protocol.md §9). */
const refusedBeforeAcceptance = (error: ErrorShape): boolean => error.retryable === true && typeof error.retryAfterMs === "number"

const classify = (method: string, error: ErrorShape, payload: unknown): RpcErrorKind => {
  const message = error.message
  // A `chat.send` replayed after its run failed: the message was accepted the first time and the
  // answer carries that run (`payload.runId`, `status:"error"`), e.g. no model credentials. Only the
  // same answer with the gateway's client-retry marks, `retryable: true` and a `retryAfterMs`, is a
  // send refused before it was accepted, to be sent again under the same key; a replay marked
  // `retryable: true` alone stays a failed run, never sent twice (docs/gateway-protocol.md §5 chat.send, §9).
  if (method === "chat.send" && !refusedBeforeAcceptance(error) && typeof payload === "object" && payload !== null && "status" in payload && payload.status === "error") {
    return "chat_run_failed"
  }
  if (error.code === "UNAVAILABLE") return /rate|too many/i.test(message) ? "rate_limited" : "unavailable"
  if (error.code === "FORBIDDEN" || detailCode(error.details) === "MISSING_SCOPE") return "missing_scope"
  if (detailType(error.details) === "agent_file_conflict") return "file_conflict"
  if (detailCode(error.details) === "UNKNOWN_AGENT_ID" || /^agent "[^"]*" not found/i.test(message)) return "agent_not_found"
  if (/already exists/i.test(message)) return "agent_exists"
  if (/^unsupported file/i.test(message)) return "unsupported_file"
  if (/config changed since last load/i.test(message)) return "config_conflict"
  if (/config base hash required/i.test(message)) return "config_base_hash_required"
  if (/cannot delete the main session/i.test(message)) return "main_session"
  if (/rate limit|too many/i.test(message)) return "rate_limited"
  return error.code === "INVALID_REQUEST" ? "invalid_request" : "other"
}

/** Builds the typed error for an `ok:false` response of `method` (with the frame's payload, if any). */
export const rpcError = (method: string, error: ErrorShape, payload?: unknown): GatewayRpcError => {
  const kind = classify(method, error, payload)
  return new GatewayRpcError({
    method,
    code: error.code,
    kind,
    message: error.message,
    retryable: error.retryable ?? false,
    retryAfterMs: error.retryAfterMs,
    details: error.details
  })
}

/** A short, secret-free description for logs, the agent's `lastError` and HTTP answers. */
export const describeGatewayError = (error: GatewayError): string => {
  switch (error._tag) {
    case "GatewayRpcError":
      return `${error.method}: ${error.code} ${error.message}`
    case "GatewayConnectionError":
      return `connection ${error.reason}${error.closeCode === undefined ? "" : ` (${error.closeCode})`}: ${error.message}`
    case "GatewayTimeoutError":
      return `${error.method}: no answer within ${error.timeoutMs} ms`
    case "GatewayProtocolError":
      return `${error.method}: ${error.message}`
    case "GatewayPairingRequired":
      return error.message
  }
}
