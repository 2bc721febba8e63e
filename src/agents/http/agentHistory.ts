import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import { notFound } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"

/**
 * A page of one agent's records (`/agents/{id}/activity`, `/transitions`, `/messages`):
 * `{items, total, limit, offset}`, newest first as `read` gives them. A deleted agent's records
 * stay readable: they are the record of what happened; an unknown agent is a 404. Errors:
 * SqlError (503).
 */
export const agentHistory = <T, V, R>(
  agentId: string,
  page: { readonly limit: number; readonly offset: number },
  read: (agentId: string, page: { readonly limit: number; readonly offset: number }) => Effect.Effect<{ readonly items: ReadonlyArray<T>; readonly total: number }, SqlError, R>,
  view: (item: T) => V
) =>
  Effect.gen(function* () {
    const agent = yield* Effect.flatMap(AgentRepo, (repo) => repo.get(agentId, { includeDeleted: true }))
    if (Option.isNone(agent)) return yield* notFound("agent")
    const found = yield* read(agentId, page)
    return reply(200, { items: found.items.map(view), total: found.total, limit: page.limit, offset: page.offset })
  })
