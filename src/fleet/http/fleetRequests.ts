import { z } from "zod"
import { stuckAfterS } from "../../agents/http/agentRequests.ts"
import { IdempotencyKey, name, uuid } from "../../http/contract.ts"

/** Request schemas of `/api/v1/gateways` and the fleet summary (docs/operations.md §6.7). Types are inferred. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/
/** The refinements below read a parsed URL; text that is no URL at all is already refused by `z.url`. */
const whenParsed = (check: (url: URL) => boolean) => (text: string) => {
  const url = URL.parse(text)
  return url === null || check(url)
}
/** `wss://`, or `ws://` to loopback only: the gateway token and device proof must not cross a network in clear. */
const wsUrl = z
  .url({ protocol: /^wss?$/, error: "must be a ws:// or wss:// URL" })
  .max(2_048)
  .refine(whenParsed((url) => url.protocol === "wss:" || LOOPBACK_HOST.test(url.hostname)), {
    message: "a gateway that is not on loopback must use wss:// (its token would otherwise travel in clear)"
  })
  // The URL is shown and logged; credentials belong in `token`.
  .refine(whenParsed((url) => url.username === "" && url.password === ""), { message: "must not carry credentials; pass the token in `token`" })
const absolutePath = z.string().trim().regex(/^\//, "must be an absolute path")

export const GatewayCreate = z.strictObject({ name, url: wsUrl, token: z.string().min(1).max(4_096), workspace_root: absolutePath })
export const GatewayUpdate = GatewayCreate.partial()
/** `DELETE /gateways/{id}?force=true`: agents whose gateway cleanup failed are removed locally. */
export const ForceQuery = z.object({ force: z.stringbool().default(false).meta({ description: "`true`: agents whose removal from the gateway failed are removed locally only." }) })

export const FleetSummaryQuery = z.object({ stuck_after_s: stuckAfterS.meta({ description: "An agent busy for longer than this (seconds) counts as stuck." }) })

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

export const SessionParams = z.object({ id: uuid, key: sessionKey.meta({ description: "The session key, URL-encoded (e.g. `agent%3Amc-gateway-…%3Amain`)." }) })

/** `chat.history.limit` (docs/gateway-protocol.md §5: 1–1000); the gateway's default when absent. */
export const HistoryQuery = z.object({ limit: z.coerce.number().int().min(1).max(1_000).optional() })

/** An operator's chat message (docs/operations.md §6.7). */
export const SessionMessageBody = z.strictObject({
  content: z
    .string()
    .max(100_000)
    .refine((text) => text.trim() !== "", "must not be empty")
})


/** The `Idempotency-Key` request header, as a handler's decoded `headers`. */
export const IdempotencyKeyHeader = z.object({ "idempotency-key": IdempotencyKey.optional().meta({ description: "Makes a retry of this request send once." }) })
