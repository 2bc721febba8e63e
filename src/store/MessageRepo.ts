import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"

export type MessageChannel = "gateway" | "inbox"
export type MessageStatus = "pending" | "leased" | "delivered" | "failed"
export type SenderKind = "admin" | "agent" | "system"

/** One row of the `messages` ledger (migration 0008), camelCase. */
export interface MessageRow {
  readonly id: string
  readonly targetAgentId: string
  readonly senderKind: SenderKind
  /** Set when `senderKind` is `agent` (null once that agent row is gone). */
  readonly senderAgentId: string | null
  /** What the message is for: `nudge`, `ask_user`, `lead_question`, `board_chat`, … (free text, per feature). */
  readonly kind: string
  readonly channel: MessageChannel
  readonly body: string
  /** `chat.send.deliver` for the gateway channel: also push it to the agent's external channels. */
  readonly deliver: boolean
  readonly idempotencyKey: string
  readonly status: MessageStatus
  /** Delivery attempts started so far (gateway: `chat.send` calls; inbox: polls that leased it). */
  readonly attempts: number
  /** Why the last attempt failed, or why the message is `failed`; null after a clean delivery. */
  readonly lastError: string | null
  readonly leaseExpiresAt: Date | null
  readonly replyTo: string | null
  readonly result: unknown
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly deliveredAt: Date | null
}

/** What an insert states; the rest of a row (status, attempts, timestamps, …) the database fills in. */
export type NewMessage = Pick<
  MessageRow,
  "id" | "targetAgentId" | "senderKind" | "senderAgentId" | "kind" | "channel" | "body" | "deliver" | "idempotencyKey" | "replyTo"
>

export interface MessagePage {
  readonly items: ReadonlyArray<MessageRow>
  readonly total: number
}

export interface MessageRepoShape {
  /**
   * Inserts the message unless its sender already used its idempotency key (unique per sender,
   * migration 0008). Answers the stored row: the new one (`inserted: true`) or the one that
   * holds the key (`inserted: false`), whatever its content.
   */
  readonly insert: (message: NewMessage) => Effect.Effect<{ readonly row: MessageRow; readonly inserted: boolean }, SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<MessageRow>, SqlError>
  /** Messages to one agent, newest first. */
  readonly forTarget: (agentId: string, page: { readonly limit: number; readonly offset: number }) => Effect.Effect<MessagePage, SqlError>
  /** Gateway-channel messages still `pending` (not yet delivered nor failed), oldest first: what a restart resumes. */
  readonly pendingGateway: (limit: number) => Effect.Effect<ReadonlyArray<MessageRow>, SqlError>
  /** One more attempt starts: `attempts + 1`. */
  readonly recordAttempt: (id: string) => Effect.Effect<void, SqlError>
  /** The attempt failed and will be retried: remembers why (status stays `pending`). */
  readonly recordError: (id: string, error: string) => Effect.Effect<void, SqlError>
  /** Final: delivered (clears `last_error`). Only a `pending` or `leased` message changes. */
  readonly markDelivered: (id: string) => Effect.Effect<Option.Option<MessageRow>, SqlError>
  /** Final: failed with `reason`. Only a `pending` or `leased` message changes. */
  readonly markFailed: (id: string, reason: string) => Effect.Effect<Option.Option<MessageRow>, SqlError>
}

/**
 * The message ledger table. The inbox channel's lease queries belong to the inbox; this repo
 * holds what every channel shares (insert, look-up) and the gateway channel's delivery marks.
 */
export class MessageRepo extends Context.Tag("switchyard/MessageRepo")<MessageRepo, MessageRepoShape>() {}

const first = <A>(rows: ReadonlyArray<A>) => Option.fromNullable(rows[0])

export const MessageRepoLive = Layer.effect(
  MessageRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const bySenderKey = (message: NewMessage) =>
      sql<MessageRow>`select * from messages
        where sender_kind = ${message.senderKind}
          and coalesce(sender_agent_id::text, '') = ${message.senderAgentId ?? ""}
          and idempotency_key = ${message.idempotencyKey}`
    const settle = (id: string, changes: Record<string, unknown>) =>
      sql<MessageRow>`update messages set ${sql.update({ ...changes, updatedAt: new Date() })}
        where id = ${id} and status in ('pending', 'leased') returning *`.pipe(Effect.map(first))
    return MessageRepo.of({
      insert: (message) =>
        Effect.gen(function* () {
          // `do nothing` waits for a concurrent insert of the same key to commit, so the read below finds it.
          const inserted = yield* sql<MessageRow>`insert into messages ${sql.insert({ ...message })} on conflict do nothing returning *`
          if (inserted[0] !== undefined) return { row: inserted[0], inserted: true }
          const existing = yield* bySenderKey(message)
          if (existing[0] !== undefined) return { row: existing[0], inserted: false }
          return yield* Effect.dieMessage(`message ${message.id}: insert did nothing, yet no message holds its idempotency key`)
        }),
      get: (id) => sql<MessageRow>`select * from messages where id = ${id}`.pipe(Effect.map(first)),
      forTarget: (agentId, { limit, offset }) =>
        Effect.all({
          items: sql<MessageRow>`select * from messages where target_agent_id = ${agentId} order by created_at desc, id limit ${limit} offset ${offset}`,
          total: sql<{ count: string }>`select count(*) from messages where target_agent_id = ${agentId}`.pipe(
            Effect.map((rows) => Number(rows[0]?.count ?? 0))
          )
        }),
      pendingGateway: (limit) =>
        sql<MessageRow>`select * from messages where channel = 'gateway' and status = 'pending' order by created_at limit ${limit}`,
      recordAttempt: (id) => sql`update messages set attempts = attempts + 1, updated_at = now() where id = ${id}`.pipe(Effect.asVoid),
      recordError: (id, error) => sql`update messages set last_error = ${error}, updated_at = now() where id = ${id}`.pipe(Effect.asVoid),
      markDelivered: (id) => settle(id, { status: "delivered", lastError: null, deliveredAt: new Date() }),
      markFailed: (id, reason) => settle(id, { status: "failed", lastError: reason })
    })
  })
)
