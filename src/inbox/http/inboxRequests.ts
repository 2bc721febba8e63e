import { z } from "zod"
import { uuid } from "../../http/contract.ts"

/**
 * The request schemas of the agent inbox (`/api/gateway/*`, docs/operations.md §6.16):
 * request schemas only, kept apart from the handlers. Agents are LLMs, so each message says
 * what is wrong; unknown fields are refused rather than ignored.
 */
/** NUL and lone surrogates are refused for every field by the request decoding (`src/http/decode.ts`). */
const text = (max: number) => z.string().min(1, "must not be empty").max(max)

export const AgentIdParams = z.object({ agent_id: uuid })

export const PollQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) })

export const ReportBody = z.strictObject({ message_id: uuid, result: text(100_000) })

export const SendMessageBody = z.strictObject({
  /** The contact's exact name (case does not matter); see `contacts` in the poll answer. */
  to: z.string().trim().min(1, "must not be empty").max(120),
  content: text(100_000),
  /** Replaying a key sends nothing twice; without one, every call is a new message. */
  idempotency_key: z.string().trim().min(1).max(200).optional()
})

export const InboxHeartbeatBody = z.strictObject({ status: z.string().trim().min(1).max(64).optional() })
