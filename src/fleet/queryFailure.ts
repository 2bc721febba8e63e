import { describeGatewayError, type GatewayError } from "../gateway/GatewayError.ts"
import { IdempotencyConflict } from "../messages/IdempotencyConflict.ts"
import { GatewayQueryUnavailable, GatewayRequestRefused } from "./GatewayQueryErrors.ts"

const isChatConflict = (error: GatewayError) =>
  error._tag === "GatewayRpcError" &&
  typeof error.details === "object" &&
  error.details !== null &&
  "reason" in error.details &&
  error.details.reason === "chat-request-conflict"

/** A failed read that carried no caller input the gateway could refuse: always 502. */
export const unavailable = (gatewayId: string, operation: string, error: GatewayError) =>
  new GatewayQueryUnavailable({ gatewayId, operation, detail: describeGatewayError(error) })

/**
 * What a failed call carrying the caller's input (a session key, a limit) means: the gateway
 * refused that input (`INVALID_REQUEST`, e.g. a session of an unknown agent → 422), or it could
 * not answer (502). Messages are `describeGatewayError`'s, secret-free.
 */
export const queryFailure = (gatewayId: string, operation: string, error: GatewayError): GatewayRequestRefused | GatewayQueryUnavailable =>
  error._tag === "GatewayRpcError" && (error.kind === "invalid_request" || error.kind === "agent_not_found")
    ? new GatewayRequestRefused({ gatewayId, operation, detail: describeGatewayError(error) })
    : unavailable(gatewayId, operation, error)

/** `queryFailure` of `chat.send`, plus an idempotency key reused for another message or session (409; docs/gateway-protocol.md §5). */
export const sendFailure = (gatewayId: string, error: GatewayError, idempotencyKey: string) =>
  isChatConflict(error) ? new IdempotencyConflict({ idempotencyKey, refusedBy: "gateway" }) : queryFailure(gatewayId, "chat.send", error)
