import { HttpRouter } from "@effect/platform"
import { Effect, Option, Redacted } from "effect"
import type { CheckOutcome, GatewayDeleting, GatewayNameTaken, GatewayNotFound, RegisteredGateway } from "../../fleet/GatewayAdmin.ts"
import type { GatewayIncompatible, GatewayUnreachable } from "../../fleet/probeGateway.ts"
import { GatewayAdmin } from "../../fleet/GatewayAdmin.ts"
import { GatewayRepo } from "../../store/GatewayRepo.ts"
import { ApiError, conflict, invalid, notFound } from "../ApiError.ts"
import { ForceQuery, GatewayCreate, GatewayUpdate, IdParams } from "../contract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { admin } from "../admin.ts"
import { existingGateway } from "../lookups.ts"
import { json, type KnownError } from "../respond.ts"
import { gatewayView } from "../views.ts"

const checkView = (check: CheckOutcome | null) =>
  check === null
    ? { runtime: null, pairing: null }
    : check.state === "ready"
      ? { runtime: { server_version: check.runtime.serverVersion, protocol: check.runtime.protocol, version_checked: check.runtime.versionChecked }, pairing: null }
      : {
          runtime: null,
          pairing: {
            request_id: check.requestId ?? null,
            detail: `${check.message}; approve it on the gateway host (openclaw devices approve ${check.requestId ?? "<request id>"}), then POST this gateway's /check`
          }
        }

const registeredView = (registered: RegisteredGateway) => ({
  ...gatewayView(registered.gateway),
  main_agent_id: registered.mainAgentId,
  ...checkView(registered.check)
})

type AdminFailure = GatewayNotFound | GatewayNameTaken | GatewayDeleting | GatewayIncompatible | GatewayUnreachable

/** The typed refusals of gateway administration as answers: 404, 409 (name taken, deleting), 422 (refused), 502 (unreachable). */
const answerFailures = <A, R>(effect: Effect.Effect<A, AdminFailure | KnownError, R>) =>
  effect.pipe(
    Effect.catchTags({
      GatewayNotFound: () => Effect.fail(notFound("gateway")),
      GatewayNameTaken: (error) => Effect.fail(conflict(error.message)),
      GatewayDeleting: (error) => Effect.fail(conflict(error.message)),
      GatewayIncompatible: (error) => Effect.fail(invalid(error.message)),
      GatewayUnreachable: (error) => Effect.fail(new ApiError({ status: 502, detail: error.message }))
    })
  )

/**
 * `/api/v1/gateways` (admin). Create and url/token changes run the runtime check first (422 too
 * old or refused, 502 unreachable; nothing is stored either way); create also provisions the
 * gateway-main agent. Delete removes our agents from the gateway before the row goes. The
 * token is stored encrypted and never returned.
 */
export const gatewayRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/gateways",
    admin(
      Effect.gen(function* () {
        const body = yield* decodeBody(GatewayCreate)
        const registered = yield* answerFailures(
          Effect.flatMap(GatewayAdmin, (gateways) =>
            gateways.register({ name: body.name, url: body.url, token: Redacted.make(body.token), workspaceRoot: body.workspace_root })
          )
        )
        return json(registeredView(registered), registered.check.state === "ready" ? 201 : 202)
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways",
    admin(
      Effect.gen(function* () {
        const rows = yield* Effect.flatMap(GatewayRepo, (repo) => repo.list)
        return json({ items: rows.map(gatewayView), total: rows.length })
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        return json(gatewayView(yield* existingGateway(id)))
      })
    )
  ),
  HttpRouter.patch(
    "/api/v1/gateways/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const body = yield* decodeBody(GatewayUpdate)
        const updated = yield* answerFailures(
          Effect.flatMap(GatewayAdmin, (gateways) =>
            gateways.update(id, {
              ...(body.name === undefined ? {} : { name: body.name }),
              ...(body.url === undefined ? {} : { url: body.url }),
              ...(body.token === undefined ? {} : { token: Redacted.make(body.token) }),
              ...(body.workspace_root === undefined ? {} : { workspaceRoot: body.workspace_root })
            })
          )
        )
        return json({ ...gatewayView(updated.gateway), ...checkView(updated.check) }, updated.check?.state === "pairing" ? 202 : 200)
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/gateways/:id/check",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const checked = yield* answerFailures(Effect.flatMap(GatewayAdmin, (gateways) => gateways.check(id)))
        return json(registeredView(checked), checked.check.state === "ready" ? 200 : 202)
      })
    )
  ),
  HttpRouter.del(
    "/api/v1/gateways/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const { force } = yield* decodeQuery(ForceQuery)
        const outcome = yield* answerFailures(Effect.flatMap(GatewayAdmin, (gateways) => gateways.remove(id, { force })))
        if (outcome.deleted) return json({ ok: true, deleted: true })
        const row = yield* Effect.flatMap(GatewayRepo, (repo) => repo.get(id))
        // Removed by a sweep in between: as good as done.
        if (Option.isNone(row)) return json({ ok: true, deleted: true })
        return json({ ...gatewayView(row.value), agents_remaining: outcome.agentsRemaining }, 202)
      })
    )
  )
)
