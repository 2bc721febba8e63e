import { Data } from "effect"
import type { GatewayNotFound } from "../agents/GatewayRowErrors.ts"
import type { IdempotencyConflict } from "../messages/IdempotencyConflict.ts"

/** The gateway lists no session with this key. HTTP: 404. */
export class GatewaySessionNotFound extends Data.TaggedError("GatewaySessionNotFound")<{ readonly gatewayId: string; readonly key: string }> {
  override get message(): string {
    return `session ${this.key} not found on gateway ${this.gatewayId}`
  }
}

/**
 * The gateway could not answer: unreachable, no answer within the query timeout, a device
 * awaiting pairing, or an answer that does not match the protocol. `detail` is secret-free
 * (`describeGatewayError`). HTTP: 502.
 */
export class GatewayQueryUnavailable extends Data.TaggedError("GatewayQueryUnavailable")<{
  readonly gatewayId: string
  readonly operation: string
  readonly detail: string
}> {
  override get message(): string {
    return `gateway ${this.gatewayId}: ${this.operation} failed: ${this.detail}`
  }
}

/** The gateway refused the request as invalid (`INVALID_REQUEST`, e.g. a session of an unknown agent). HTTP: 422. */
export class GatewayRequestRefused extends Data.TaggedError("GatewayRequestRefused")<{
  readonly gatewayId: string
  readonly operation: string
  readonly detail: string
}> {
  override get message(): string {
    return `gateway ${this.gatewayId} refused ${this.operation}: ${this.detail}`
  }
}

/** `GatewayNotFound` (404) is shared by every context (`agents/GatewayRowErrors.ts`). */
export type GatewayQueryError = GatewayNotFound | GatewaySessionNotFound | GatewayQueryUnavailable | GatewayRequestRefused | IdempotencyConflict
