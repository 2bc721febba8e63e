import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import { AgentRepo } from "../store/AgentRepo.ts"
import { admin } from "./admin.ts"
import { notFound } from "./ApiError.ts"
import { IdParams, PageQuery } from "./contract.ts"
import { decodeParams, decodeQuery } from "./decode.ts"
import { json } from "./respond.ts"

/**
 * An admin route paging one agent's records (`/agents/{id}/activity`, `/transitions`,
 * `/messages`): `?limit&offset` → `{items, total, limit, offset}`, newest first as `read` gives
 * them. A deleted agent's records stay readable: they are the record of what happened; an
 * unknown agent is a 404. Errors: SqlError (503).
 */
export const agentHistory = <T, R>(
  read: (agentId: string, page: { readonly limit: number; readonly offset: number }) => Effect.Effect<{ readonly items: ReadonlyArray<T>; readonly total: number }, SqlError, R>,
  view: (item: T) => unknown
) =>
  admin(
    Effect.gen(function* () {
      const { id } = yield* decodeParams(IdParams)
      const page = yield* decodeQuery(PageQuery)
      const agent = yield* Effect.flatMap(AgentRepo, (repo) => repo.get(id, { includeDeleted: true }))
      if (Option.isNone(agent)) return yield* notFound("agent")
      const found = yield* read(id, page)
      return json({ items: found.items.map(view), total: found.total, limit: page.limit, offset: page.offset })
    })
  )
