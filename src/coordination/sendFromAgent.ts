import { Effect } from "effect"
import { MessageLedger, type SendRequest } from "../messages/MessageLedger.ts"
import type { AgentRow } from "../store/AgentRepo.ts"

/** A coordination message from `caller` into another agent's session: a gateway-channel ledger send with the caller as sender. */
export const sendFromAgent = (caller: AgentRow, message: Omit<SendRequest, "sender" | "channel">) =>
  Effect.flatMap(MessageLedger, (ledger) => ledger.send({ ...message, sender: { kind: "agent", agentId: caller.id }, channel: "gateway" }))
