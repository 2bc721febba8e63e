import { randomUUID } from "node:crypto"
import { HttpRouter } from "@effect/platform"
import { Effect, Option } from "effect"
import { BoardRepo } from "../../store/BoardRepo.ts"
import { GatewayRepo } from "../../store/GatewayRepo.ts"
import { invalid, notFound } from "../ApiError.ts"
import { requireAdmin } from "../auth.ts"
import { BoardCreate, BoardQuery, IdParams } from "../contract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { handle, json } from "../respond.ts"
import { boardView } from "../views.ts"

/** `/api/v1/boards` (admin): a board belongs to one gateway. */
export const boardRoutes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/v1/boards",
    handle(
      Effect.gen(function* () {
        yield* requireAdmin
        const body = yield* decodeBody(BoardCreate)
        const gateway = yield* Effect.flatMap(GatewayRepo, (repo) => repo.get(body.gateway_id))
        if (Option.isNone(gateway)) return yield* invalid(`gateway_id: no gateway ${body.gateway_id}`)
        const row = yield* Effect.flatMap(BoardRepo, (repo) => repo.insert({ id: randomUUID(), gatewayId: body.gateway_id, name: body.name }))
        return json(boardView(row), 201)
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/boards",
    handle(
      Effect.gen(function* () {
        yield* requireAdmin
        const query = yield* decodeQuery(BoardQuery)
        const rows = yield* Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId: query.gateway_id }))
        return json({ items: rows.map(boardView), total: rows.length })
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/boards/:id",
    handle(
      Effect.gen(function* () {
        yield* requireAdmin
        const { id } = yield* decodeParams(IdParams)
        const row = yield* Effect.flatMap(BoardRepo, (repo) => repo.get(id))
        if (Option.isNone(row)) return yield* notFound("board")
        return json(boardView(row.value))
      })
    )
  )
)
