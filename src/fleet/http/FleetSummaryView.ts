import { z } from "zod"
import type { Shape } from "../../http/Endpoint.ts"
import type { FleetSummary } from "../../store/fleetQueries.ts"

const uuid = z.uuid()
const counts = z.record(z.string(), z.int()).meta({ description: "Live agents by state path, e.g. `{\"online\": 9, \"provisioning.failed\": 1}`; states with none are left out." })

export const FleetSummaryView = z
  .object({
    total: z.int().meta({ description: "Live (not deleted) agents." }),
    by_state: counts,
    gateways: z.array(z.object({ gateway_id: uuid, total: z.int(), by_state: counts })).meta({ description: "Gateways with at least one live agent." }),
    boards: z
      .array(z.object({ board_id: uuid.nullable().meta({ description: "null: the gateway's agents on no board (its main agent)." }), gateway_id: uuid, total: z.int(), by_state: counts }))
      .meta({ description: "Boards with at least one live agent." }),
    problems: z.object({
      failed: z.int().meta({ description: "In a `*.failed` state: needs `POST /api/v1/agents/{id}/retry` (or a delete)." }),
      retrying: z.int().meta({ description: "In `*.retrying` or `*.wakeRetrying`: a step failed and is retried; `last_error` says why." }),
      offline: z.int(),
      offline_by_reason: z.array(z.object({ reason: z.string().nullable(), count: z.int() })).meta({ description: "Offline agents by `offline_reason`, most first." }),
      stuck: z.int().meta({ description: "Busy (provisioning, updating, deleting; not failed) for longer than `stuck_after_s`." }),
      stuck_after_s: z.int(),
      gateway_missing: z.int().meta({ description: "Offline because the gateway no longer lists the agent (`liveness.offline_cause`); counted in `offline` too." }),
      heartbeat_mismatch: z.int().meta({ description: "Offline because the gateway runs another heartbeat than the one we set; counted in `offline` too." }),
      drifted: z.int().meta({ description: "Live agents whose last workspace check found managed files that differ from what was written (`workspace.drifted`)." })
    })
  })
  .meta({ id: "FleetSummary" })

/** The summary on the wire (snake_case). */
export const fleetSummaryView = (summary: FleetSummary): Shape<typeof FleetSummaryView> => ({
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
    stuck_after_s: summary.problems.stuckAfterS,
    gateway_missing: summary.problems.gatewayMissing,
    heartbeat_mismatch: summary.problems.heartbeatMismatch,
    drifted: summary.problems.drifted
  }
})
