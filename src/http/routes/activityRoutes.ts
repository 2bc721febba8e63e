import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { ActivityRepo } from "../../store/ActivityRepo.ts"
import { ApiError } from "../ApiError.ts"
import { authenticate } from "../auth.ts"
import { decodeQuery } from "../decode.ts"
import { ActivityQuery } from "../inboxContract.ts"
import { handle, json } from "../respond.ts"
import { activityView } from "../views.ts"

/**
 * `GET /api/v1/activity`: the lifecycle and coordination log (agent lifecycle, inbox sends,
 * reports and key rotations), newest first. The admin reads everything, filtered by `agent_id`
 * and `board_id`; an agent (`X-Agent-Token`) reads only its own entries, and asking for
 * another agent's is 403.
 */
export const activityRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/activity",
    handle(
      Effect.gen(function* () {
        const caller = yield* authenticate
        const query = yield* decodeQuery(ActivityQuery)
        if (caller.kind === "agent" && query.agent_id !== undefined && query.agent_id !== caller.agentId) {
          return yield* new ApiError({ status: 403, detail: "an agent reads only its own activity" })
        }
        const agentId = caller.kind === "agent" ? caller.agentId : query.agent_id
        const page = yield* Effect.flatMap(ActivityRepo, (repo) => repo.page({ agentId, boardId: query.board_id, limit: query.limit, offset: query.offset }))
        return json({ items: page.items.map(activityView), total: page.total, limit: query.limit, offset: query.offset })
      })
    )
  )
)
