import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { admin } from "../admin.ts"
import { FleetSummaryQuery } from "../contract.ts"
import { decodeQuery } from "../decode.ts"
import { json } from "../respond.ts"
import type { FleetSummary } from "../../store/fleetQueries.ts"

/** The summary on the wire (snake_case), as documented by `FleetSummaryView` in src/http/openapi/fleetPaths.ts. */
export const fleetSummaryView = (summary: FleetSummary) => ({
  total: summary.total,
  by_state: summary.byState,
  gateways: summary.gateways.map((gateway) => ({ gateway_id: gateway.gatewayId, total: gateway.total, by_state: gateway.byState })),
  boards: summary.boards.map((board) => ({ board_id: board.boardId, gateway_id: board.gatewayId, total: board.total, by_state: board.byState })),
  problems: {
    failed: summary.problems.failed,
    retrying: summary.problems.retrying,
    offline: summary.problems.offline,
    offline_by_reason: summary.problems.offlineByReason,
    stuck: summary.problems.stuck,
    stuck_after_s: summary.problems.stuckAfterS
  }
})

/** `/api/v1/fleet/summary` (admin): live agents counted by gateway, board and state, and the problems, from the read model. */
export const fleetRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/fleet/summary",
    admin(
      Effect.gen(function* () {
        const query = yield* decodeQuery(FleetSummaryQuery)
        return json(fleetSummaryView(yield* Effect.flatMap(AgentRepo, (repo) => repo.summary(query.stuck_after_s))))
      })
    )
  )
)
