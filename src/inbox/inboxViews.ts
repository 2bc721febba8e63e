import type { InboxContact, InboxMessageRow } from "../store/InboxRepo.ts"
import type { PolledMessage } from "./AgentInbox.ts"

const iso = (date: Date | null) => (date === null ? null : date.toISOString())

const senderView = (row: InboxMessageRow) => ({ kind: row.senderKind, agent_id: row.senderAgentId, name: row.senderName })

/** One line of conversation history: who wrote what to whom, and the result reported for it. */
export const historyView = (row: InboxMessageRow) => ({
  id: row.id,
  sender: senderView(row),
  to_agent_id: row.targetAgentId,
  content: row.body,
  reply_to: row.replyTo,
  result: row.result === null ? null : (JSON.parse(row.result) as unknown),
  created_at: iso(row.createdAt)
})

/** A polled message as the agent receives it: Clawith's item (docs/operations.md §6.16) plus the lease and attempt count. */
export const polledView = ({ message, history }: PolledMessage) => ({
  id: message.id,
  kind: message.kind,
  content: message.body,
  sender: senderView(message),
  reply_to: message.replyTo,
  attempts: message.attempts,
  lease_expires_at: iso(message.leaseExpiresAt),
  created_at: iso(message.createdAt),
  history: history.map(historyView)
})

export const contactView = (contact: InboxContact) => ({ id: contact.id, name: contact.name, role: contact.role, board_id: contact.boardId })
