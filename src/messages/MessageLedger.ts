import { randomUUID } from "node:crypto"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, FiberMap, Layer, Option, PubSub, Queue, Schedule } from "effect"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayOwnership } from "../cluster/GatewayOwnership.ts"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { MessageRepo, type MessageChannel, type MessagePage, type MessageRow } from "../store/MessageRepo.ts"
import { deliverMessage } from "./deliverMessage.ts"
import { IdempotencyConflict } from "./IdempotencyConflict.ts"
import { MessageNotFound, MessageTargetNotFound } from "./MessageErrors.ts"

export { IdempotencyConflict, MessageNotFound, MessageTargetNotFound }

/** Who sends: the operator (admin token), an agent (its id), or Switchyard itself (onboarding, relays). */
export type MessageSender = { readonly kind: "admin" } | { readonly kind: "system" } | { readonly kind: "agent"; readonly agentId: string }

export interface SendRequest {
  /** The receiving agent's id; it must exist and not be deleted. */
  readonly targetAgentId: string
  readonly sender: MessageSender
  /** What it is for (`nudge`, `ask_user`, `lead_question`, `board_chat`, `onboarding_start`, …). */
  readonly kind: string
  /** `gateway`: `chat.send` into the target's session by the delivery worker. `inbox`: pulled by the agent. */
  readonly channel: MessageChannel
  /** The text the agent receives. */
  readonly body: string
  /** Gateway channel: `chat.send.deliver` (also push to the agent's external channels). Default false. */
  readonly deliver?: boolean | undefined
  /**
   * Replay protection, per sender: a second send with the same key returns the first message
   * and sends nothing. Absent: every call is a new message.
   */
  readonly idempotencyKey?: string | undefined
  readonly replyTo?: string | undefined
}

export interface Sent {
  readonly message: MessageRow
  /** True when the key had been used already: `message` is the earlier one and nothing was sent. */
  readonly replayed: boolean
}

export interface MessageLedgerShape {
  /**
   * Records the message (the event), then, for the gateway channel, hands it to the delivery
   * worker (the side effect) and returns at once with `status: "pending"`. Errors:
   * MessageTargetNotFound, IdempotencyConflict (same key, different message), SqlError.
   */
  readonly send: (request: SendRequest) => Effect.Effect<Sent, MessageTargetNotFound | IdempotencyConflict | SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<MessageRow>, SqlError>
  /** Messages to `agentId`, newest first. */
  readonly forTarget: (agentId: string, page: { readonly limit: number; readonly offset: number }) => Effect.Effect<MessagePage, SqlError>
  /**
   * The message once it is `delivered` or `failed`, or as it stands after `timeoutMs` (ms;
   * still `pending`/`leased`). Errors: MessageNotFound, SqlError.
   */
  readonly awaitSettled: (id: string, timeoutMs: number) => Effect.Effect<MessageRow, MessageNotFound | SqlError>
}

/**
 * The message ledger (docs/architecture.md §9.3): every message to an agent, from any feature, is a row first
 * and is delivered after, so each send can be looked up (delivered or failed, and why) and a
 * replayed idempotency key sends nothing twice. Gateway-channel messages are delivered by the
 * worker inside this service (`deliverMessage`), which also resumes the `pending` gateway
 * messages of the gateways this runner owns when it starts (and orphaned ones after a takeover).
 */
export class MessageLedger extends Context.Tag("switchyard/MessageLedger")<MessageLedger, MessageLedgerShape>() {}

/** Gateway deliveries in flight at once, per process (a board-wide fan-out or a resume after a restart). */
const DELIVERY_CONCURRENCY = 16
/** How long a new target (a lead created for a lead message) may take to be provisioned before its message fails, ms. */
const READY_TIMEOUT_MS = 180_000
/** The most pending gateway messages resumed at a start. */
const RESUME_LIMIT = 10_000
/** A pending message untouched this long has no delivery running (its runner died), ms. */
const ORPHAN_IDLE_MS = 300_000
/** How often orphaned pending messages of owned gateways are looked for. */
const ORPHAN_EVERY = "30 seconds"

const isSettled = (row: MessageRow) => row.status === "delivered" || row.status === "failed"

const sameMessage = (row: MessageRow, request: SendRequest) =>
  row.targetAgentId === request.targetAgentId && row.kind === request.kind && row.channel === request.channel && row.body === request.body

export const makeMessageLedger = Effect.gen(function* () {
  const repo = yield* MessageRepo
  const config = yield* AppConfig
  const services = Context.make(MessageRepo, repo).pipe(
    Context.add(AgentRepo, yield* AgentRepo),
    Context.add(AgentSystem, yield* AgentSystem),
    Context.add(ActivityRepo, yield* ActivityRepo),
    Context.add(GatewayRepo, yield* GatewayRepo),
    Context.add(GatewayClient, yield* GatewayClient)
  )
  const settled = yield* PubSub.unbounded<MessageRow>()
  const deliveries = yield* FiberMap.make<string>()
  const permits = yield* Effect.makeSemaphore(DELIVERY_CONCURRENCY)
  const options = { readyTimeoutMs: READY_TIMEOUT_MS, callTimeoutMs: config.gatewayCallTimeoutMs }

  const deliver = (row: MessageRow) =>
    FiberMap.run(
      deliveries,
      row.id,
      permits.withPermits(1)(deliverMessage(row, options)).pipe(
        Effect.tap(Option.match({ onNone: () => Effect.void, onSome: (done) => PubSub.publish(settled, done) })),
        Effect.catchAll((error) => Effect.logWarning(`message ${row.id} stays pending (resumed at the next start): ${error.message}`)),
        Effect.provide(services)
      ),
      { onlyIfMissing: true }
    )

  // Pending gateway messages are resumed by the owner of their target's gateway only
  // (docs/architecture.md "Cluster"): all of them once this runner is ready, then every 30 s
  // those left untouched for 5 min (their runner died; an attempt in progress touches its row
  // well within that). A repeat is harmless: `chat.send` goes under the message's fixed key.
  const sql = yield* SqlClient.SqlClient
  const ownership = yield* GatewayOwnership
  const system = yield* AgentSystem
  const resume = (idleMs: number) =>
    sql<MessageRow & { readonly ownerGatewayId: string }>`
      select m.*, a.gateway_id as owner_gateway_id from messages m join agents a on a.id = m.target_agent_id
      where m.channel = 'gateway' and m.status = 'pending' and m.updated_at <= now() - ${idleMs} * interval '1 millisecond'
      order by m.created_at limit ${RESUME_LIMIT}`.pipe(
      Effect.map((rows) => rows.filter((row) => ownership.owns(row.ownerGatewayId)).map(({ ownerGatewayId: _, ...row }) => row as MessageRow)),
      Effect.tap((rows) => (rows.length === 0 ? Effect.void : Effect.logInfo(`resuming ${rows.length} pending gateway messages`))),
      Effect.flatMap(Effect.forEach(deliver, { discard: true })),
      Effect.catchAll((error) => Effect.logError(`could not resume pending gateway messages: ${error.message}`))
    )
  yield* system.readiness.pipe(
    Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (readiness) => readiness.state !== "restoring" }),
    Effect.zipRight(resume(0)),
    Effect.zipRight(Effect.repeat(Effect.delay(resume(ORPHAN_IDLE_MS), ORPHAN_EVERY), Schedule.forever)),
    Effect.forkScoped
  )

  const targetExists = (agentId: string) =>
    Effect.flatMap(AgentRepo, (agents) => agents.get(agentId)).pipe(
      Effect.flatMap((agent) => (Option.isSome(agent) ? Effect.void : Effect.fail(new MessageTargetNotFound({ agentId })))),
      Effect.provide(services)
    )

  return MessageLedger.of({
    send: Effect.fn("Messages.send")(function* (request) {
      yield* targetExists(request.targetAgentId)
      const id = randomUUID()
      const { row, inserted } = yield* repo.insert({
        id,
        targetAgentId: request.targetAgentId,
        senderKind: request.sender.kind,
        senderAgentId: request.sender.kind === "agent" ? request.sender.agentId : null,
        kind: request.kind,
        channel: request.channel,
        body: request.body,
        deliver: request.deliver ?? false,
        idempotencyKey: request.idempotencyKey ?? id,
        replyTo: request.replyTo ?? null
      })
      if (!inserted) {
        if (!sameMessage(row, request)) return yield* new IdempotencyConflict({ idempotencyKey: row.idempotencyKey, refusedBy: "ledger", existingId: row.id })
        return { message: row, replayed: true }
      }
      if (row.channel === "gateway") yield* deliver(row)
      return { message: row, replayed: false }
    }),
    get: repo.get,
    forTarget: repo.forTarget,
    awaitSettled: (id, timeoutMs) =>
      Effect.scoped(
        Effect.gen(function* () {
          const updates = yield* PubSub.subscribe(settled)
          const current = yield* repo.get(id)
          if (Option.isNone(current)) return yield* new MessageNotFound({ messageId: id })
          if (isSettled(current.value)) return current.value
          // Settled here (the hub), or elsewhere (an inbox report, another instance): the poll.
          const here = Queue.take(updates).pipe(Effect.repeat({ until: (row) => row.id === id }))
          const elsewhere = repo.get(id).pipe(
            Effect.flatMap((row) => (Option.isSome(row) && isSettled(row.value) ? Effect.succeed(row.value) : Effect.fail("unsettled" as const))),
            Effect.retry(Schedule.spaced("500 millis"))
          )
          const done = yield* Effect.race(here, elsewhere).pipe(Effect.timeout(timeoutMs), Effect.option)
          if (Option.isSome(done)) return done.value
          return Option.getOrElse(yield* repo.get(id), () => current.value)
        })
      )
  })
})

/** Live layer: needs MessageRepo, AgentRepo, AgentSystem, ActivityRepo, GatewayRepo, GatewayClient and AppConfig. */
export const MessageLedgerLive = Layer.scoped(MessageLedger, makeMessageLedger)

/** A fake ledger for tests: `stubs` answer; the test decides what an unstubbed member does. */
export const MessageLedgerTest = (stubs: MessageLedgerShape) => Layer.succeed(MessageLedger, MessageLedger.of(stubs))
