import { z } from "zod"
import type { messageView } from "../coordinationAnswers.ts"
import { DeliveryWaitQuery } from "../coordinationContract.ts"
import { IdempotencyKey } from "../gatewayQueryContract.ts"
import type { memoryView } from "../routes/boardMemoryRoutes.ts"
import type { onboardingView } from "../routes/onboardingRoutes.ts"
import type { Conforms, Expect } from "./conforms.ts"
import { agentOperation, answer, type AgentOperationSpec, type RoleTag } from "./legacyOperations.ts"

/** Response schemas of the coordination API, board memory, onboarding and the message ledger (OpenAPI only). */

const time = z.iso.datetime({ offset: true })

import { LedgerMessage } from "../../messages/http/MessageView.ts"
export { LedgerMessage }

/**
 * The answer to a send (`answerSend`): `ok`, the route's own fields, `replayed`, the message;
 * 200 delivered, 202 still pending, 502 failed (with `detail`).
 */
export const sendAnswer = <Extra extends z.ZodRawShape>(extra: Extra) =>
  z.object({ ok: z.boolean(), ...extra, replayed: z.boolean().meta({ description: "The Idempotency-Key had been used: nothing was sent again." }), message: LedgerMessage, detail: z.string().optional() })

export const DeliveryWaitDoc = DeliveryWaitQuery.extend({
  wait_ms: DeliveryWaitQuery.shape.wait_ms.meta({ description: "How long to wait for the delivery before answering: 200 delivered, 202 still pending (GET /api/v1/messages/{id}), 502 failed." })
})

export const idempotencyHeader = z.object({ "idempotency-key": IdempotencyKey.optional().meta({ description: "A retry with the same key sends nothing twice." }) })

/** A send's answers: delivered, still pending, or failed at the gateway. */
export const sent = (shape: z.ZodRawShape) => {
  const body = sendAnswer(shape)
  return {
    "200": answer("Delivered.", body),
    "202": answer("Recorded; delivery still pending (see `message.status`).", body),
    "502": answer("Delivery failed; `detail` says why.", body)
  }
}

/** A send by an agent: refused input, an unknown target or a reused key besides the usual. */
export const send = (roles: ReadonlyArray<RoleTag>, spec: AgentOperationSpec) => agentOperation(roles, { ...spec, failures: [400, 404, 409, ...(spec.failures ?? [])] })

export const BoardMemory = z
  .object({
    id: z.uuid(),
    board_id: z.uuid(),
    content: z.string(),
    tags: z.array(z.string()),
    is_chat: z.boolean().meta({ description: "Tagged `chat`: board chat, sent to the lead and @mentions." }),
    source: z.string().nullable(),
    author: z.object({ kind: z.enum(["admin", "agent"]), agent_id: z.uuid().nullable() }),
    created_at: time
  })
  .meta({ id: "BoardMemory" })

/** The answer to a memory post: the entry, whether it was a replay, and the chat messages it sent. */
export const MemoryPosted = BoardMemory.extend({ replayed: z.boolean(), messages: z.array(LedgerMessage) })

export const Onboarding = z
  .object({
    board_id: z.uuid(),
    main_agent_id: z.uuid().nullable(),
    status: z.enum(["active", "completed"]),
    messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content: z.string(), timestamp: time })),
    draft_goal: z.unknown().meta({ description: "The main agent's `complete` payload, once posted." }),
    created_at: time,
    updated_at: time
  })
  .meta({ id: "BoardOnboarding" })

export type CoordinationSchemasConform = [
  Expect<Conforms<ReturnType<typeof messageView>, typeof LedgerMessage>>,
  Expect<Conforms<ReturnType<typeof memoryView>, typeof BoardMemory>>,
  Expect<Conforms<ReturnType<typeof onboardingView>, typeof Onboarding>>
]
