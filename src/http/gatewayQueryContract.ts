import { z } from "zod"
import { GatewayCreate } from "./contract.ts"

/**
 * Request schemas of the gateway runtime queries under `/api/v1/gateways` (docs/operations.md
 * §6.7, under the gateway's id). Types are inferred.
 */

/**
 * An unsaved gateway to probe, validated exactly as gateway create validates it (`wss://`, or
 * `ws://` to loopback only). The token travels in the body, never the query string (request
 * URLs are logged; docs/operations.md §6.7).
 */
export const GatewayProbeBody = z.strictObject({ url: GatewayCreate.shape.url, token: GatewayCreate.shape.token })

/**
 * A session key as the gateway writes it, e.g. `agent:mc-gateway-<id>:main` (docs/gateway-protocol.md
 * §5): the path carries it URL-encoded; one token of visible characters.
 */
const sessionKey = z
  .string()
  .min(1, "must not be empty")
  .max(512)
  .regex(/^[^\s\p{Cc}]+$/u, "must be a session key such as agent:<agent id>:main, without spaces or control characters")

export const SessionParams = z.object({ id: z.uuid(), key: sessionKey.meta({ description: "The session key, URL-encoded (e.g. `agent%3Amc-gateway-…%3Amain`)." }) })

/** `chat.history.limit` (docs/gateway-protocol.md §5: 1–1000); the gateway's default when absent. */
export const HistoryQuery = z.object({ limit: z.coerce.number().int().min(1).max(1_000).optional() })

/** An operator's chat message (docs/operations.md §6.7). */
export const SessionMessageBody = z.strictObject({
  content: z
    .string()
    .max(100_000)
    .refine((text) => text.trim() !== "", "must not be empty")
})

/** A client's `Idempotency-Key` header: one visible-ASCII token, so a retry of the same request sends once. */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, "must be 1–200 visible ASCII characters")

/** The `Idempotency-Key` request header, as a handler's decoded `headers`. */
export const IdempotencyKeyHeader = z.object({ "idempotency-key": IdempotencyKey.optional().meta({ description: "Makes a retry of this request send once." }) })
