import { randomUUID } from "node:crypto"
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Redacted } from "effect"
import type { GatewayQueryError } from "../../fleet/GatewayQueryErrors.ts"
import type { GatewayStatus } from "../../fleet/inspectGateway.ts"
import { GatewayQueries } from "../../fleet/GatewayQueries.ts"
import { admin } from "../admin.ts"
import { ApiError, conflict, invalid, notFound } from "../ApiError.ts"
import { IdParams } from "../contract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { GatewayProbeBody, HistoryQuery, IdempotencyKey, SessionMessageBody, SessionParams } from "../gatewayQueryContract.ts"
import { json } from "../respond.ts"

/** Mission Control's gateway status shape (docs/operations.md §6.7), plus the probe's version, protocol and pairing. */
const statusView = (status: GatewayStatus) => ({
  connected: status.connected,
  gateway_url: status.gatewayUrl,
  server_version: status.serverVersion,
  protocol: status.protocol,
  version_checked: status.versionChecked,
  sessions_count: status.sessions === null ? null : status.sessions.length,
  sessions: status.sessions,
  main_session: status.mainSession,
  main_session_error: status.mainSessionError,
  error: status.error,
  pairing: status.pairing === null ? null : { request_id: status.pairing.requestId }
})

/** The service's tagged failures as answers: 404 unknown gateway or session, 422 refused input, 409 reused key, 502 gateway down. */
const answered = <A, R>(effect: Effect.Effect<A, ApiError | SqlError | GatewayQueryError, R>) =>
  effect.pipe(
    Effect.catchTags({
      GatewayNotFound: () => Effect.fail(notFound("gateway")),
      GatewaySessionNotFound: () => Effect.fail(notFound("session")),
      GatewayRequestRefused: (error) => Effect.fail(invalid(error.message)),
      GatewayIdempotencyConflict: (error) => Effect.fail(conflict(error.message)),
      GatewayQueryUnavailable: (error) => Effect.fail(new ApiError({ status: 502, detail: error.message }))
    })
  )

/** `Idempotency-Key` if the client sent one (a retry then sends once), else a fresh key. */
const idempotencyKey = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const given = request.headers["idempotency-key"]
  if (given === undefined) return Effect.succeed(randomUUID())
  const parsed = IdempotencyKey.safeParse(given)
  return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(invalid(`invalid Idempotency-Key header: ${parsed.error.issues[0]?.message ?? "invalid"}`))
})

/**
 * Runtime queries of a gateway (admin; docs/operations.md §6.7). Handlers validate, then ask
 * `GatewayQueries`; HTTP never reaches the gateway client itself.
 */
export const gatewayQueryRoutes = HttpRouter.empty.pipe(
  // A static path: the router prefers it to `/api/v1/gateways/:id`.
  HttpRouter.post(
    "/api/v1/gateways/status",
    admin(
      Effect.gen(function* () {
        const body = yield* decodeBody(GatewayProbeBody)
        const status = yield* Effect.flatMap(GatewayQueries, (service) => service.statusOf({ url: body.url, token: Redacted.make(body.token) }))
        return json(statusView(status))
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id/status",
    admin(
      answered(
        Effect.gen(function* () {
          const { id } = yield* decodeParams(IdParams)
          return json(statusView(yield* Effect.flatMap(GatewayQueries, (service) => service.status(id))))
        })
      )
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id/sessions",
    admin(
      answered(
        Effect.gen(function* () {
          const { id } = yield* decodeParams(IdParams)
          const listed = yield* Effect.flatMap(GatewayQueries, (service) => service.sessions(id))
          return json({ sessions: listed.sessions, main_session: listed.mainSession })
        })
      )
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id/sessions/:key",
    admin(
      answered(
        Effect.gen(function* () {
          const { id, key } = yield* decodeParams(SessionParams)
          return json({ session: yield* Effect.flatMap(GatewayQueries, (service) => service.session(id, key)) })
        })
      )
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id/sessions/:key/history",
    admin(
      answered(
        Effect.gen(function* () {
          const { id, key } = yield* decodeParams(SessionParams)
          const { limit } = yield* decodeQuery(HistoryQuery)
          return json({ history: yield* Effect.flatMap(GatewayQueries, (service) => service.history(id, key, limit)) })
        })
      )
    )
  ),
  HttpRouter.post(
    "/api/v1/gateways/:id/sessions/:key/message",
    admin(
      answered(
        Effect.gen(function* () {
          const { id, key } = yield* decodeParams(SessionParams)
          const body = yield* decodeBody(SessionMessageBody)
          const keyToUse = yield* idempotencyKey
          // A later issue moves agent messages onto a ledger; this sends straight to the gateway.
          const sent = yield* Effect.flatMap(GatewayQueries, (service) => service.sendMessage({ gatewayId: id, key, content: body.content, idempotencyKey: keyToUse }))
          return json({ ok: true, idempotency_key: keyToUse, run_id: sent.runId, status: sent.status }, 202)
        })
      )
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id/commands",
    admin(
      answered(
        Effect.gen(function* () {
          const { id } = yield* decodeParams(IdParams)
          const hello = yield* Effect.flatMap(GatewayQueries, (service) => service.commands(id))
          return json({ protocol_version: hello.protocol, methods: hello.methods, events: hello.events })
        })
      )
    )
  )
)
