import { Effect } from "effect"
import { z } from "zod"
import { answer, reply, type Shape } from "../../http/Endpoint.ts"
import { IdempotencyKey } from "../../http/contract.ts"
import type { MessageRow } from "../../store/MessageRepo.ts"
import { MessageLedger } from "../MessageLedger.ts"
import { time } from "../../http/timestamps.ts"

const iso = (date: Date | null) => (date === null ? null : date.toISOString())

export const LedgerMessage = z
  .object({
    id: z.uuid(),
    target_agent_id: z.uuid(),
    sender: z.object({ kind: z.enum(["admin", "agent", "system"]), agent_id: z.uuid().nullable() }),
    kind: z.string().meta({ description: "`nudge`, `ask_user`, `lead_question`, `board_chat`, …" }),
    channel: z.enum(["gateway", "inbox"]),
    body: z.string(),
    deliver: z.boolean().meta({ description: "Also pushed to the agent's external channels." }),
    idempotency_key: z.string(),
    status: z.enum(["pending", "leased", "delivered", "failed"]),
    attempts: z.int(),
    last_error: z.string().nullable(),
    reply_to: z.uuid().nullable(),
    created_at: time,
    updated_at: time,
    delivered_at: time.nullable()
  })
  .meta({ id: "Message", description: "A message in the ledger and where its delivery stands." })

/** A ledger message as the API shows it: who, what, and where its delivery stands (`status`, `attempts`, `last_error`). */
export const messageView = (row: MessageRow): Shape<typeof LedgerMessage> => ({
  id: row.id,
  target_agent_id: row.targetAgentId,
  sender: { kind: row.senderKind, agent_id: row.senderAgentId },
  kind: row.kind,
  channel: row.channel,
  body: row.body,
  deliver: row.deliver,
  idempotency_key: row.idempotencyKey,
  status: row.status,
  attempts: row.attempts,
  last_error: row.lastError,
  reply_to: row.replyTo,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
  delivered_at: iso(row.deliveredAt)
})

/**
 * How long a send waits for its delivery before answering (ms): 200 delivered, 202 still
 * pending (look it up at `GET /api/v1/messages/{id}`), 502 failed with the reason.
 */
export const DeliveryWaitQuery = z.object({
  wait_ms: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(5_000)
    .meta({ description: "How long to wait for the delivery before answering: 200 delivered, 202 still pending (GET /api/v1/messages/{id}), 502 failed." })
})

/** `Idempotency-Key` of a send: a retry with it sends nothing twice; absent, every request is a new send. */
export const SendIdempotencyHeader = z.object({ "idempotency-key": IdempotencyKey.optional().meta({ description: "A retry with the same key sends nothing twice." }) })

/** The answer to a send: `ok`, the route's own fields, `replayed`, the message; 200 delivered, 202 still pending, 502 failed (with `detail`). */
const sendAnswer = <Extra extends z.ZodRawShape>(extra: Extra) =>
  z.object({ ok: z.boolean(), ...extra, replayed: z.boolean().meta({ description: "The Idempotency-Key had been used: nothing was sent again." }), message: LedgerMessage, detail: z.string().optional() })

/** A send's answers: delivered, still pending, or failed at the gateway. */
export const sent = <Extra extends z.ZodRawShape>(extra: Extra) => {
  const body = sendAnswer(extra)
  return { 200: answer("Delivered.", body), 202: answer("Recorded; delivery still pending (see `message.status`).", body), 502: answer("Delivery failed; `detail` says why.", body) } as const
}

/**
 * The answer to a send: waits up to `waitMs` for the delivery, then 200 (delivered), 202 (still
 * pending; `GET /api/v1/messages/{id}` shows how it ends) or 502 with the reason (failed;
 * docs/operations.md §6.12). `replayed` says the idempotency key had been used: the earlier
 * message is shown and nothing was sent again.
 */
export const answerSend = <const Extra extends object>(sentMessage: { readonly message: MessageRow; readonly replayed: boolean }, waitMs: number, extra: Extra) =>
  Effect.gen(function* () {
    const message = waitMs > 0 ? yield* Effect.flatMap(MessageLedger, (ledger) => ledger.awaitSettled(sentMessage.message.id, waitMs)) : sentMessage.message
    const body = { ok: message.status !== "failed", ...extra, replayed: sentMessage.replayed, message: messageView(message) }
    if (message.status === "failed") return reply(502, { ...body, detail: `delivery failed: ${message.lastError ?? "unknown reason"}` })
    return reply(message.status === "delivered" ? 200 : 202, body)
  })
