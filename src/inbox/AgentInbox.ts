import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, type Redacted } from "effect"
import { AgentNotFound } from "../agents/AgentSystemErrors.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { MessageLedger } from "../messages/MessageLedger.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentApiKeyRepo } from "../store/AgentApiKeyRepo.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { InboxRepo, type InboxContact, type InboxMessageRow } from "../store/InboxRepo.ts"
import { IdempotencyConflict } from "../messages/IdempotencyConflict.ts"
import { InboxContactNotFound, InboxMessageNotFound, InboxReportConflict } from "./InboxErrors.ts"
import { mintInboxKey } from "./inboxKey.ts"
import { inboxScopeOf } from "./inboxScope.ts"

/** Messages of conversation history handed out with each polled message (docs/operations.md §6.16). */
export const HISTORY_LIMIT = 10
/** Ledger `kind` of a message one agent sends another through its inbox, and of the reply its report queues. */
export const MESSAGE_KIND = "inbox.message"
export const REPLY_KIND = "inbox.reply"

export interface PolledMessage {
  readonly message: InboxMessageRow
  /** The conversation with the same sender before this message, oldest first. */
  readonly history: ReadonlyArray<InboxMessageRow>
}

export interface AgentInboxShape {
  /** A new inbox key for the agent, replacing any earlier one; the key is returned once and only its hash is kept. */
  readonly issueKey: (agentId: string) => Effect.Effect<{ readonly key: Redacted.Redacted<string>; readonly rotated: boolean; readonly createdAt: Date }, AgentNotFound | SqlError>
  /**
   * Leases up to `limit` deliverable messages for `leaseMs` (config `inboxLeaseMs`); one not
   * reported before its lease ends is handed out again by a later poll (at least once).
   */
  readonly poll: (
    agentId: string,
    limit: number
  ) => Effect.Effect<{ readonly messages: ReadonlyArray<PolledMessage>; readonly contacts: ReadonlyArray<InboxContact>; readonly leaseMs: number }, AgentNotFound | SqlError>
  /**
   * Records the result of one of the agent's messages and, when an agent sent it (and it is not
   * itself a reply), queues the result in that agent's inbox as a reply (`reply_to`), in one
   * transaction. Idempotent: the
   * same result again is `replayed`; a different one is InboxReportConflict.
   */
  readonly report: (
    agentId: string,
    messageId: string,
    result: string
  ) => Effect.Effect<{ readonly replayed: boolean; readonly replyMessageId: string | null }, InboxMessageNotFound | InboxReportConflict | AgentNotFound | SqlError>
  /**
   * Queues `content` in the inbox of the contact named exactly `to` (case-insensitive). A
   * replayed `idempotencyKey` answers with the first message (`replayed`) and sends nothing.
   */
  readonly send: (
    agentId: string,
    input: { readonly to: string; readonly content: string; readonly idempotencyKey?: string | undefined }
  ) => Effect.Effect<
    { readonly messageId: string; readonly target: InboxContact; readonly replayed: boolean },
    InboxContactNotFound | IdempotencyConflict | AgentNotFound | SqlError
  >
}

/** The agent inbox: Clawith's pull API over the message ledger, with leases instead of mark-on-poll (docs/operations.md §6.16). */
export class AgentInbox extends Context.Tag("switchyard/AgentInbox")<AgentInbox, AgentInboxShape>() {}

export const AgentInboxLive = Layer.effect(
  AgentInbox,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const inbox = yield* InboxRepo
    const ledger = yield* MessageLedger
    const keys = yield* AgentApiKeyRepo
    const agents = yield* AgentRepo
    const activity = yield* ActivityRepo
    const { inboxLeaseMs } = yield* AppConfig

    const live = (agentId: string) =>
      Effect.flatMap(agents.get(agentId), Option.match({ onNone: () => Effect.fail(new AgentNotFound({ agentId })), onSome: Effect.succeed }))
    const logFor = (agent: { id: string; boardId: string | null; gatewayId: string }, eventType: string, message: string) =>
      activity.record({ eventType, message, agentId: agent.id, boardId: agent.boardId, gatewayId: agent.gatewayId })
    const sameResult = (stored: string | null, result: string) => stored !== null && JSON.parse(stored) === result

    return AgentInbox.of({
      issueKey: Effect.fn("AgentInbox.issueKey")(function* (agentId) {
        const agent = yield* live(agentId)
        const minted = mintInboxKey()
        const stored = yield* Effect.tap(keys.put(agent.id, minted.hash), ({ rotated }) =>
          logFor(agent, rotated ? "inbox.key_rotated" : "inbox.key_created", `${agent.name}: inbox key ${rotated ? "rotated" : "created"}`)
        ).pipe(sql.withTransaction)
        return { key: minted.key, ...stored }
      }),
      poll: Effect.fn("AgentInbox.poll")(function* (agentId, limit) {
        const agent = yield* live(agentId)
        // The lease commits on its own: an answer lost on the way is redelivered after the lease.
        const leased = yield* inbox.lease(agent.id, { leaseMs: inboxLeaseMs, limit })
        const histories = yield* inbox.histories(leased, HISTORY_LIMIT)
        const messages = leased.map((message) => ({ message, history: histories.get(message.id) ?? [] }))
        const scope = inboxScopeOf(agent)
        const contacts = scope === undefined ? [] : yield* inbox.contacts(scope, agent.id)
        return { messages, contacts, leaseMs: inboxLeaseMs }
      }),
      report: Effect.fn("AgentInbox.report")(function* (agentId, messageId, result) {
        const agent = yield* live(agentId)
        return yield* Effect.gen(function* () {
          const found = yield* inbox.lockOwn(agent.id, messageId)
          if (Option.isNone(found)) return yield* new InboxMessageNotFound({ messageId })
          const message = found.value
          if (message.status === "failed") return yield* new InboxReportConflict({ messageId, reason: "failed" })
          const replayed = message.status === "delivered"
          if (replayed && !sameResult(message.result, result)) return yield* new InboxReportConflict({ messageId, reason: "result_mismatch" })
          if (!replayed) yield* inbox.complete(message.id, JSON.stringify(result))
          // The reply's idempotency key is the message's, so a replayed report finds it instead of queueing another.
          // A reply's own report goes nowhere: two agents would otherwise acknowledge each other forever.
          const reply =
            message.senderKind === "agent" && message.senderAgentId !== null && message.kind !== REPLY_KIND
              ? yield* ledger
                  .send({
                    targetAgentId: message.senderAgentId,
                    sender: { kind: "agent", agentId: agent.id },
                    kind: REPLY_KIND,
                    channel: "inbox",
                    body: result,
                    idempotencyKey: `reply:${message.id}`,
                    replyTo: message.id
                  })
                  .pipe(
                    Effect.map((sent) => sent.message),
                    // The sender was deleted since: the result is recorded, there is no one to reply to.
                    Effect.catchTag("MessageTargetNotFound", () => Effect.succeed(undefined)),
                    // Only this message's report uses `reply:<id>`, and a different result was refused above.
                    Effect.catchTag("IdempotencyConflict", (error) => Effect.die(error))
                  )
              : undefined
          if (!replayed) {
            const routed = reply === undefined ? "" : `; reply queued for ${message.senderName ?? message.senderAgentId}`
            yield* logFor(agent, "inbox.reported", `${agent.name}: reported inbox message ${message.id}${routed}`)
          }
          return { replayed, replyMessageId: reply?.id ?? null }
        }).pipe(sql.withTransaction)
      }),
      send: Effect.fn("AgentInbox.send")(function* (agentId, { to, content, idempotencyKey }) {
        const agent = yield* live(agentId)
        const scope = inboxScopeOf(agent)
        const target = scope === undefined ? Option.none() : yield* inbox.findContact(scope, agent.id, to)
        if (Option.isNone(target)) return yield* new InboxContactNotFound({ name: to, scope: scope?.kind ?? "none" })
        return yield* Effect.gen(function* () {
          const sent = yield* ledger
            .send({
              targetAgentId: target.value.id,
              sender: { kind: "agent", agentId: agent.id },
              kind: MESSAGE_KIND,
              channel: "inbox",
              body: content,
              // Namespaced: the sender's other ledger messages (coordination routes, replies) share its keys.
              idempotencyKey: idempotencyKey === undefined ? undefined : `send:${idempotencyKey}`
            })
            .pipe(
              Effect.catchTags({
                IdempotencyConflict: () => Effect.fail(new IdempotencyConflict({ idempotencyKey: idempotencyKey ?? "", refusedBy: "inbox" })),
                // Deleted between the look-up and the insert.
                MessageTargetNotFound: () => Effect.fail(new InboxContactNotFound({ name: to, scope: scope?.kind ?? "none" }))
              })
            )
          if (!sent.replayed) yield* logFor(agent, "inbox.sent", `${agent.name} → ${target.value.name}: inbox message ${sent.message.id}`)
          return { messageId: sent.message.id, target: target.value, replayed: sent.replayed }
        }).pipe(sql.withTransaction)
      })
    })
  })
)
