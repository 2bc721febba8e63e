import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, type Redacted } from "effect"
import { loadGateway } from "../agents/programs/loadGateway.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import { GatewayTimeoutError, type GatewayError } from "../gateway/GatewayError.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { inspectGateway, type GatewayStatus } from "./inspectGateway.ts"
import type { GatewayNotFound } from "../agents/GatewayRowErrors.ts"
import type { IdempotencyConflict } from "../messages/IdempotencyConflict.ts"
import { GatewaySessionNotFound, type GatewayQueryUnavailable, type GatewayRequestRefused } from "./GatewayQueryErrors.ts"
import { findSession, listSessions, MAIN_SESSION_LABEL, type GatewaySession } from "./listSessions.ts"
import { probeTargetId } from "./probeGateway.ts"
import { startBudget, withinBudget, type QueryBudget } from "./QueryBudget.ts"
import { queryFailure, sendFailure, unavailable } from "./queryFailure.ts"

/** Interactive queries answer within this, retries included, or sooner when `gatewayCallTimeoutMs` is smaller (ms). */
export const QUERY_TIMEOUT_CAP_MS = 10_000

/** The share of a message's budget its best-effort main-session label may take: 1 / this. */
const ENSURE_MAIN_SHARE = 4

type Unavailable = GatewayNotFound | GatewayQueryUnavailable | SqlError

export interface GatewayQueriesShape {
  /** The status of a saved gateway (docs/operations.md §6.7). Never fails for the gateway's sake: see `GatewayStatus.error`. */
  readonly status: (gatewayId: string) => Effect.Effect<GatewayStatus, GatewayNotFound | SqlError>
  /** The same probe for an unsaved url and token, on a throwaway socket closed afterwards. */
  readonly statusOf: (probe: { readonly url: string; readonly token: Redacted.Redacted<string> }) => Effect.Effect<GatewayStatus>
  /** `sessions.list` with the main session ensured (docs/operations.md §6.7). */
  readonly sessions: (gatewayId: string) => Effect.Effect<{ readonly sessions: ReadonlyArray<GatewaySession>; readonly mainSession: GatewaySession | null }, Unavailable>
  /** One session by exact key; the main agent's is created if missing (docs/operations.md §6.7). */
  readonly session: (gatewayId: string, key: string) => Effect.Effect<GatewaySession, Unavailable | GatewaySessionNotFound>
  /** `chat.history` rows, oldest first; `limit` 1–1000 (docs/gateway-protocol.md §5). An unknown key is an empty list. */
  readonly history: (gatewayId: string, key: string, limit: number | undefined) => Effect.Effect<ReadonlyArray<unknown>, Unavailable | GatewayRequestRefused>
  /**
   * `chat.send {deliver:false}` under `idempotencyKey` (docs/gateway-protocol.md §5 chat.send): a repeat
   * with the same key and message is not sent again (`status: "in_flight"`).
   */
  readonly sendMessage: (input: {
    readonly gatewayId: string
    readonly key: string
    readonly content: string
    readonly idempotencyKey: string
  }) => Effect.Effect<{ readonly runId: string; readonly status: string }, Unavailable | GatewayRequestRefused | IdempotencyConflict>
  /** `hello-ok.features` as this gateway advertised them (not a static list; docs/operations.md §6.7). */
  readonly commands: (gatewayId: string) => Effect.Effect<{ readonly protocol: number; readonly methods: ReadonlyArray<string>; readonly events: ReadonlyArray<string> }, Unavailable>
}

/**
 * Reads of a gateway's runtime state for operators (docs/operations.md §6.7), and the operator's
 * chat message. These are queries, not agent-state mutations, so they sit behind a service on the
 * shared gateway sockets rather than behind an agent actor; HTTP reaches the gateway only through
 * this tag. Each answer's gateway calls share one budget of `min(10 s, gatewayCallTimeoutMs)`
 * (`QueryBudget`, docs/operations.md §6.7): a transient refusal (`UNAVAILABLE`, `retryable: true`,
 * a lost socket) is retried while the budget lasts, honouring `retryAfterMs`, and a hung gateway
 * still answers in bounded time. `chat.send` is retried too, under its idempotency key, so a retry
 * is never a second message (docs/gateway-protocol.md §5 chat.send). Other refusals answer at
 * once. Errors are tagged: GatewayNotFound and GatewaySessionNotFound (404),
 * GatewayQueryUnavailable (502), GatewayRequestRefused (422), IdempotencyConflict (409).
 */
export class GatewayQueries extends Context.Tag("switchyard/GatewayQueries")<GatewayQueries, GatewayQueriesShape>() {}

export const makeGatewayQueries = Effect.gen(function* () {
  const client = yield* GatewayClient
  const config = yield* AppConfig
  const timeoutMs = Math.min(QUERY_TIMEOUT_CAP_MS, config.gatewayCallTimeoutMs)
  const services = Context.make(GatewayClient, client).pipe(Context.add(GatewayRepo, yield* GatewayRepo), Context.add(AgentRepo, yield* AgentRepo))
  const load = (gatewayId: string) =>
    loadGateway(gatewayId).pipe(
      Effect.provide(services)
    )
  const mainKeyOf = (gatewayId: string) =>
    Effect.flatMap(AgentRepo, (repo) => repo.mainOf(gatewayId)).pipe(Effect.map(Option.map((main) => main.sessionKey)), Effect.provide(services))
  const inspect = (target: GatewayTarget, mainKey: Option.Option<string>) =>
    Effect.flatMap(startBudget(timeoutMs), (budget) => inspectGateway({ target, mainKey, minVersion: config.gatewayMinVersion, budget }).pipe(Effect.provide(services)))
  const fail = (gatewayId: string, operation: string) => (error: GatewayError) => Effect.fail(unavailable(gatewayId, operation, error))
  const ensureMain = (target: GatewayTarget, key: string, budget: QueryBudget) =>
    withinBudget(budget, "sessions.patch", (callMs) => client.call(target, "sessions.patch", { key, label: MAIN_SESSION_LABEL }, { timeoutMs: callMs }))

  return GatewayQueries.of({
    status: Effect.fn("GatewayQueries.status")(function* (gatewayId) {
      const { target } = yield* load(gatewayId)
      return yield* inspect(target, yield* mainKeyOf(gatewayId))
    }),
    statusOf: Effect.fn("GatewayQueries.statusOf")(function* (probe) {
      // A throwaway id: this socket must neither reuse nor replace a saved gateway's, and the janitor leaves it alone.
      const target: GatewayTarget = { id: probeTargetId(), url: probe.url, token: probe.token }
      return yield* inspect(target, Option.none()).pipe(Effect.ensuring(client.forget(target.id)))
    }),
    sessions: Effect.fn("GatewayQueries.sessions")(function* (gatewayId) {
      const { target } = yield* load(gatewayId)
      const mainKey = yield* mainKeyOf(gatewayId)
      const listed = yield* listSessions(target, mainKey, yield* startBudget(timeoutMs)).pipe(Effect.provide(services), Effect.catchAll(fail(gatewayId, "sessions.list")))
      return { sessions: listed.sessions, mainSession: listed.mainSession }
    }),
    session: Effect.fn("GatewayQueries.session")(function* (gatewayId, key) {
      const { target } = yield* load(gatewayId)
      const budget = yield* startBudget(timeoutMs)
      const found = yield* findSession(target, key, budget).pipe(Effect.provide(services), Effect.catchAll(fail(gatewayId, "sessions.list")))
      if (Option.isSome(found)) return found.value
      const mainKey = yield* mainKeyOf(gatewayId)
      if (Option.isNone(mainKey) || mainKey.value !== key) return yield* new GatewaySessionNotFound({ gatewayId, key })
      yield* ensureMain(target, key, budget).pipe(Effect.catchAll(fail(gatewayId, "sessions.patch")))
      const ensured = yield* findSession(target, key, budget).pipe(Effect.provide(services), Effect.catchAll(fail(gatewayId, "sessions.list")))
      return yield* Option.match(ensured, { onNone: () => Effect.fail(new GatewaySessionNotFound({ gatewayId, key })), onSome: Effect.succeed })
    }),
    history: Effect.fn("GatewayQueries.history")(function* (gatewayId, key, limit) {
      const { target } = yield* load(gatewayId)
      const params = limit === undefined ? { sessionKey: key } : { sessionKey: key, limit }
      const budget = yield* startBudget(timeoutMs)
      const result = yield* withinBudget(budget, "chat.history", (callMs) => client.call(target, "chat.history", params, { timeoutMs: callMs })).pipe(
        Effect.catchAll((error) => Effect.fail(queryFailure(gatewayId, "chat.history", error)))
      )
      return result.messages
    }),
    sendMessage: Effect.fn("GatewayQueries.sendMessage")(function* (input) {
      const { target } = yield* load(input.gatewayId)
      const mainKey = yield* mainKeyOf(input.gatewayId)
      const budget = yield* startBudget(timeoutMs)
      // The main agent's session gets its label before the first message (docs/operations.md §6.7),
      // best effort, within a quarter of the budget: the message itself keeps the rest.
      if (Option.contains(mainKey, input.key)) yield* Effect.ignore(ensureMain(target, input.key, yield* startBudget(Math.floor(timeoutMs / ENSURE_MAIN_SHARE))))
      const params = { sessionKey: input.key, message: input.content, deliver: false, idempotencyKey: input.idempotencyKey }
      // Every attempt carries the same key: a retry after a lost answer is the same send (docs/gateway-protocol.md §5 chat.send).
      return yield* withinBudget(budget, "chat.send", (callMs) => client.call(target, "chat.send", params, { timeoutMs: callMs })).pipe(
        Effect.map((ack) => ({ runId: ack.runId, status: ack.status })),
        // The gateway took this message under this key before and its run has since failed: it was sent once, as asked.
        Effect.catchIf(
          (error) => error._tag === "GatewayRpcError" && error.kind === "chat_run_failed",
          () => Effect.succeed({ runId: input.idempotencyKey, status: "error" })
        ),
        Effect.catchAll((error) => Effect.fail(sendFailure(input.gatewayId, error, input.idempotencyKey)))
      )
    }),
    commands: Effect.fn("GatewayQueries.commands")(function* (gatewayId) {
      const { target } = yield* load(gatewayId)
      const budget = yield* startBudget(timeoutMs)
      const hello = yield* withinBudget(budget, "connect", (callMs) =>
        client.connect(target).pipe(Effect.timeoutFail({ duration: callMs, onTimeout: () => new GatewayTimeoutError({ method: "connect", timeoutMs: callMs }) }))
      ).pipe(Effect.catchAll(fail(gatewayId, "connect")))
      return { protocol: hello.protocol, methods: hello.methods, events: hello.events }
    })
  })
})

/** Live layer: needs GatewayClient, GatewayRepo, AgentRepo and AppConfig. */
export const GatewayQueriesLive = Layer.effect(GatewayQueries, makeGatewayQueries)
