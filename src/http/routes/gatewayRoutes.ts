import { randomUUID } from "node:crypto"
import { HttpRouter } from "@effect/platform"
import { Effect, Option, Redacted } from "effect"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { GatewayRepo } from "../../store/GatewayRepo.ts"
import { conflict, notFound } from "../ApiError.ts"
import { GatewayCreate, GatewayUpdate, IdParams } from "../contract.ts"
import { decodeBody, decodeParams } from "../decode.ts"
import { admin } from "../admin.ts"
import { json } from "../respond.ts"
import { gatewayView } from "../views.ts"

/** `/api/v1/gateways` CRUD (admin). The token is stored, never returned. */
export const gatewayRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/gateways",
    admin(
      Effect.gen(function* () {
        const body = yield* decodeBody(GatewayCreate)
        const repo = yield* GatewayRepo
        const row = yield* repo.insert({ id: randomUUID(), name: body.name, url: body.url, token: Redacted.make(body.token), workspaceRoot: body.workspace_root })
        // Every gateway gets a device identity: on loopback it is admitted at once, remotely it pairs.
        yield* repo.ensureDevice(row.id)
        return json(gatewayView(row), 201)
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
        const row = yield* Effect.flatMap(GatewayRepo, (repo) => repo.get(id))
        return Option.match(row, { onNone: () => json({ detail: "gateway not found" }, 404), onSome: (gateway) => json(gatewayView(gateway)) })
      })
    )
  ),
  HttpRouter.patch(
    "/api/v1/gateways/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const body = yield* decodeBody(GatewayUpdate)
        const row = yield* Effect.flatMap(GatewayRepo, (repo) =>
          repo.update(id, {
            ...(body.name === undefined ? {} : { name: body.name }),
            ...(body.url === undefined ? {} : { url: body.url }),
            ...(body.token === undefined ? {} : { token: Redacted.make(body.token) }),
            ...(body.workspace_root === undefined ? {} : { workspaceRoot: body.workspace_root })
          })
        )
        if (Option.isNone(row)) return yield* notFound("gateway")
        return json(gatewayView(row.value))
      })
    )
  ),
  HttpRouter.del(
    "/api/v1/gateways/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const agents = yield* Effect.flatMap(AgentRepo, (repo) => repo.list({ gatewayId: id, limit: 1, offset: 0 }))
        // Removing our agents from the gateway is a lifecycle job, not a handler's (fleet operations).
        if (agents.total > 0) return yield* conflict(`gateway has ${agents.total} agents; delete them first`)
        const removed = yield* Effect.flatMap(GatewayRepo, (repo) => repo.remove(id))
        if (!removed) return yield* notFound("gateway")
        return json({ ok: true })
      })
    )
  )
)
