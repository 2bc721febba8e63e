import { randomUUID } from "node:crypto"
import { Effect, Option, Redacted } from "effect"
import { reply } from "../../http/Endpoint.ts"
import { existingGateway } from "../../http/lookups.ts"
import { serve } from "../../http/serve.ts"
import { GatewayRepo } from "../../store/GatewayRepo.ts"
import { FleetSummaries } from "../FleetSummaries.ts"
import { GatewayAdmin } from "../GatewayAdmin.ts"
import { GatewayQueries } from "../GatewayQueries.ts"
import { fleetApi } from "./fleetApi.ts"
import { fleetSummaryView } from "./FleetSummaryView.ts"
import { statusView } from "./GatewayStatusView.ts"
import { checkView, gatewayView, registeredView } from "./GatewayView.ts"

/**
 * The handlers of `fleetApi`: they validate, then ask `GatewayAdmin` or `GatewayQueries`; HTTP
 * never reaches the gateway client itself. The token is stored encrypted and never returned.
 */
export const fleetHttp = serve(fleetApi, {
  createGateway: ({ body }) =>
    Effect.gen(function* () {
      const gateways = yield* GatewayAdmin
      const registered = yield* gateways.register({ name: body.name, url: body.url, token: Redacted.make(body.token), workspaceRoot: body.workspace_root })
      return reply(registered.check.state === "ready" ? 201 : 202, registeredView(registered))
    }),
  listGateways: () => Effect.map(Effect.flatMap(GatewayRepo, (repo) => repo.list), (rows) => reply(200, { items: rows.map(gatewayView), total: rows.length })),
  getGateway: ({ params }) => Effect.map(existingGateway(params.id), (row) => reply(200, gatewayView(row))),
  updateGateway: ({ params, body }) =>
    Effect.gen(function* () {
      const gateways = yield* GatewayAdmin
      const updated = yield* gateways.update(params.id, {
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.url === undefined ? {} : { url: body.url }),
        ...(body.token === undefined ? {} : { token: Redacted.make(body.token) }),
        ...(body.workspace_root === undefined ? {} : { workspaceRoot: body.workspace_root })
      })
      return reply(updated.check?.state === "pairing" ? 202 : 200, { ...gatewayView(updated.gateway), ...checkView(updated.check) })
    }),
  checkGateway: ({ params }) =>
    Effect.map(
      Effect.flatMap(GatewayAdmin, (gateways) => gateways.check(params.id)),
      (checked) => reply(checked.check.state === "ready" ? 200 : 202, registeredView(checked))
    ),
  deleteGateway: ({ params, query }) =>
    Effect.gen(function* () {
      const outcome = yield* Effect.flatMap(GatewayAdmin, (gateways) => gateways.remove(params.id, { force: query.force }))
      const gone = reply(200, { ok: true as const, deleted: true as const })
      if (outcome.deleted) return gone
      const row = yield* Effect.flatMap(GatewayRepo, (repo) => repo.get(params.id))
      // Removed by a sweep in between: as good as done.
      if (Option.isNone(row)) return gone
      return reply(202, { ...gatewayView(row.value), agents_remaining: outcome.agentsRemaining })
    }),
  probeGateway: ({ body }) => Effect.map(Effect.flatMap(GatewayQueries, (service) => service.statusOf({ url: body.url, token: Redacted.make(body.token) })), (status) => reply(200, statusView(status))),
  gatewayStatus: ({ params }) => Effect.map(Effect.flatMap(GatewayQueries, (service) => service.status(params.id)), (status) => reply(200, statusView(status))),
  listGatewaySessions: ({ params }) =>
    Effect.map(Effect.flatMap(GatewayQueries, (service) => service.sessions(params.id)), (listed) => reply(200, { sessions: listed.sessions, main_session: listed.mainSession })),
  getGatewaySession: ({ params }) => Effect.map(Effect.flatMap(GatewayQueries, (service) => service.session(params.id, params.key)), (session) => reply(200, { session })),
  getGatewaySessionHistory: ({ params, query }) =>
    Effect.map(Effect.flatMap(GatewayQueries, (service) => service.history(params.id, params.key, query.limit)), (history) => reply(200, { history })),
  sendGatewaySessionMessage: ({ params, headers, body }) =>
    Effect.gen(function* () {
      // Without `Idempotency-Key` every request is a new send; with it, a retry sends once.
      const idempotencyKey = headers["idempotency-key"] ?? randomUUID()
      const sent = yield* Effect.flatMap(GatewayQueries, (service) => service.sendMessage({ gatewayId: params.id, key: params.key, content: body.content, idempotencyKey }))
      return reply(202, { ok: true as const, idempotency_key: idempotencyKey, run_id: sent.runId, status: sent.status })
    }),
  getGatewayCommands: ({ params }) =>
    Effect.map(Effect.flatMap(GatewayQueries, (service) => service.commands(params.id)), (hello) => reply(200, { protocol_version: hello.protocol, methods: hello.methods, events: hello.events })),
  fleetSummary: ({ query }) => Effect.map(Effect.flatMap(FleetSummaries, (fleet) => fleet.summary(query.stuck_after_s)), (summary) => reply(200, fleetSummaryView(summary)))
})
