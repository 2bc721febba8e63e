import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"
import type { MessageRow } from "./MessageRepo.ts"

/** One `channel = 'inbox'` row of the message ledger, with the sending agent's name. */
export type InboxMessageRow = Pick<
  MessageRow,
  "id" | "targetAgentId" | "senderKind" | "senderAgentId" | "kind" | "body" | "status" | "attempts" | "leaseExpiresAt" | "replyTo" | "createdAt" | "deliveredAt"
> & {
  readonly senderName: string | null
  /** The reported result, as stored (jsonb text; a JSON string for inbox reports). */
  readonly result: string | null
}

/** Whom an agent may reach: its board, or (the gateway-main agent) its whole gateway. */
export type InboxScope = { readonly kind: "board"; readonly boardId: string } | { readonly kind: "gateway"; readonly gatewayId: string }

export interface InboxContact {
  readonly id: string
  readonly name: string
  readonly role: string
  readonly boardId: string | null
}

export interface InboxRepoShape {
  /**
   * Leases up to `limit` of the agent's deliverable messages, oldest first: pending ones and
   * leased ones whose lease has expired (at least once). Each gets `attempts + 1` and a lease
   * of `leaseMs` on the database clock. Rows another poll holds are skipped
   * (`for update skip locked`), so concurrent polls never hand out one message twice.
   */
  readonly lease: (agentId: string, options: { readonly leaseMs: number; readonly limit: number }) => Effect.Effect<ReadonlyArray<InboxMessageRow>, SqlError>
  /**
   * The conversation before each of `messages` (at most `limit` each, oldest first), by message
   * id, in one query: earlier messages from the same sender to the agent and, for an agent
   * sender, the agent's messages back to it.
   */
  readonly histories: (
    messages: ReadonlyArray<InboxMessageRow>,
    limit: number
  ) => Effect.Effect<ReadonlyMap<string, ReadonlyArray<InboxMessageRow>>, SqlError>
  /** The agent's own inbox message, row-locked until the transaction ends; none for anyone else's. */
  readonly lockOwn: (agentId: string, messageId: string) => Effect.Effect<Option.Option<InboxMessageRow>, SqlError>
  /** Marks a message delivered with its result (`resultJson`: JSON text); the lease ends. */
  readonly complete: (messageId: string, resultJson: string) => Effect.Effect<void, SqlError>
  /** Live agents in `scope` other than `selfId`, by name. */
  readonly contacts: (scope: InboxScope, selfId: string) => Effect.Effect<ReadonlyArray<InboxContact>, SqlError>
  /** The live agent in `scope` (not `selfId`) whose name equals `name`, ignoring case; never a partial match. */
  readonly findContact: (scope: InboxScope, selfId: string, name: string) => Effect.Effect<Option.Option<InboxContact>, SqlError>
}

/**
 * The agent inbox's reads and state changes over the message ledger (`messages`, channel
 * `inbox`); messages are inserted only by MessageLedger.send.
 */
export class InboxRepo extends Context.Tag("switchyard/InboxRepo")<InboxRepo, InboxRepoShape>() {}

export const InboxRepoLive = Layer.effect(
  InboxRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.unsafe(`m.id, m.target_agent_id, m.sender_kind, m.sender_agent_id, s.name as sender_name, m.kind, m.body, m.status,
      m.attempts, m.lease_expires_at, m.reply_to, m.result::text as result, m.created_at, m.delivered_at`)
    const inScope = (scope: InboxScope) => (scope.kind === "board" ? sql`board_id = ${scope.boardId}` : sql`gateway_id = ${scope.gatewayId}`)
    const byCreation = (rows: ReadonlyArray<InboxMessageRow>) =>
      [...rows].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
    return InboxRepo.of({
      lease: (agentId, { leaseMs, limit }) =>
        sql<InboxMessageRow>`
          with picked as (
            select id from messages
            where target_agent_id = ${agentId} and channel = 'inbox'
              and (status = 'pending' or (status = 'leased' and lease_expires_at <= now()))
            order by created_at, id
            limit ${limit}
            for update skip locked
          ), leased as (
            update messages set status = 'leased', attempts = attempts + 1, updated_at = now(),
              lease_expires_at = now() + ${leaseMs} * interval '1 millisecond'
            from picked where messages.id = picked.id
            returning messages.*
          )
          select ${columns} from leased m left join agents s on s.id = m.sender_agent_id`.pipe(Effect.map(byCreation)),
      histories: (messages, limit) => {
        if (messages.length === 0) return Effect.succeed(new Map())
        return sql<InboxMessageRow & { readonly historyOf: string }>`
          select h.* from messages p cross join lateral (
            select ${columns}, p.id as history_of from messages m left join agents s on s.id = m.sender_agent_id
            where m.channel = 'inbox' and m.id <> p.id
              -- Compared in the database: a JS Date would drop the microseconds.
              and m.created_at <= p.created_at
              and case when p.sender_agent_id is null
                then m.target_agent_id = p.target_agent_id and m.sender_kind = p.sender_kind and m.sender_agent_id is null
                else (m.target_agent_id = p.target_agent_id and m.sender_agent_id = p.sender_agent_id)
                  or (m.target_agent_id = p.sender_agent_id and m.sender_agent_id = p.target_agent_id)
              end
            order by m.created_at desc, m.id desc limit ${limit}
          ) h
          where p.id in ${sql.in(messages.map((message) => message.id))}`.pipe(
          Effect.map((rows) => {
            const byMessage = new Map<string, Array<InboxMessageRow>>()
            for (const { historyOf, ...row } of rows) byMessage.set(historyOf, [...(byMessage.get(historyOf) ?? []), row])
            return new Map([...byMessage].map(([id, history]) => [id, byCreation(history)]))
          })
        )
      },
      lockOwn: (agentId, messageId) =>
        sql<InboxMessageRow>`
          select ${columns} from messages m left join agents s on s.id = m.sender_agent_id
          where m.id = ${messageId} and m.target_agent_id = ${agentId} and m.channel = 'inbox'
          for update of m`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]))),
      complete: (messageId, resultJson) =>
        sql`update messages set status = 'delivered', result = ${resultJson}::jsonb, delivered_at = now(), lease_expires_at = null, updated_at = now()
          where id = ${messageId}`.pipe(Effect.asVoid),
      contacts: (scope, selfId) =>
        sql<InboxContact>`select id, name, role, board_id from agents where ${inScope(scope)} and id <> ${selfId} and deleted_at is null order by lower(name), id`,
      findContact: (scope, selfId, name) =>
        sql<InboxContact>`
          select id, name, role, board_id from agents
          where ${inScope(scope)} and lower(name) = lower(${name}) and id <> ${selfId} and deleted_at is null`.pipe(
          Effect.map((rows) => Option.fromNullable(rows[0]))
        )
    })
  })
)
