import { z } from "zod"
import type { Shape } from "../../http/Endpoint.ts"
import type { InboxContact as Contact, InboxMessageRow } from "../../store/InboxRepo.ts"
import type { PolledMessage } from "../AgentInbox.ts"
import { time } from "../../http/timestamps.ts"

const Sender = z.object({ kind: z.enum(["admin", "agent", "system"]), agent_id: z.uuid().nullable(), name: z.string().nullable() })

export const InboxContact = z
  .object({ id: z.uuid(), name: z.string(), role: z.string(), board_id: z.uuid().nullable() })
  .meta({ id: "InboxContact", description: "An agent this one may message, by exact name." })

const HistoryLine = z.object({
  id: z.uuid(),
  sender: Sender,
  to_agent_id: z.uuid(),
  content: z.string(),
  reply_to: z.uuid().nullable(),
  result: z.unknown().meta({ description: "The reported result; null until reported." }),
  created_at: time
})

export const InboxMessage = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    content: z.string(),
    sender: Sender,
    reply_to: z.uuid().nullable(),
    attempts: z.int().meta({ description: "How many polls have leased it; more than 1 means a lease ran out before a report." }),
    lease_expires_at: time.nullable(),
    created_at: time,
    history: z.array(HistoryLine).meta({ description: "The conversation it belongs to, oldest first." })
  })
  .meta({ id: "InboxMessage" })

export const InboxPolled = z.object({ agent_id: z.uuid(), lease_ms: z.int(), messages: z.array(InboxMessage), contacts: z.array(InboxContact) })


const iso = (date: Date | null) => (date === null ? null : date.toISOString())

const senderView = (row: InboxMessageRow) => ({ kind: row.senderKind, agent_id: row.senderAgentId, name: row.senderName })

/** One line of conversation history: who wrote what to whom, and the result reported for it. */
export const historyView = (row: InboxMessageRow): Shape<typeof HistoryLine> => ({
  id: row.id,
  sender: senderView(row),
  to_agent_id: row.targetAgentId,
  content: row.body,
  reply_to: row.replyTo,
  result: row.result === null ? null : (JSON.parse(row.result) as unknown),
  created_at: row.createdAt.toISOString()
})

/** A polled message as the agent receives it: Clawith's item (docs/operations.md §6.16) plus the lease and attempt count. */
export const polledView = ({ message, history }: PolledMessage): Shape<typeof InboxMessage> => ({
  id: message.id,
  kind: message.kind,
  content: message.body,
  sender: senderView(message),
  reply_to: message.replyTo,
  attempts: message.attempts,
  lease_expires_at: iso(message.leaseExpiresAt),
  created_at: message.createdAt.toISOString(),
  history: history.map(historyView)
})

export const contactView = (contact: Contact): Shape<typeof InboxContact> => ({ id: contact.id, name: contact.name, role: contact.role, board_id: contact.boardId })
