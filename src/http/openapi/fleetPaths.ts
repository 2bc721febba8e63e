import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { FleetSummaryQuery } from "../contract.ts"
import type { fleetSummaryView } from "../routes/fleetRoutes.ts"
import type { Conforms, Expect } from "./conforms.ts"
import { adminOperation, answer } from "./operations.ts"

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
      stuck_after_s: z.int()
    })
  })
  .meta({ id: "FleetSummary" })

export type FleetSummaryConforms = [
  Expect<Conforms<ReturnType<typeof fleetSummaryView>, typeof FleetSummaryView>>,
  Expect<Conforms<ReturnType<typeof fleetSummaryView>["problems"], (typeof FleetSummaryView)["shape"]["problems"]>>
]

/** `/api/v1/fleet/summary`: the counts behind the fleet view. */
export const fleetPaths: ZodOpenApiPathsObject = {
  "/api/v1/fleet/summary": {
    get: adminOperation("agents", {
      operationId: "fleetSummary",
      summary: "Fleet summary: counts and problems",
      description:
        "Live agents counted by gateway, board and state from the read model, and the problems that need an operator: failed, retrying, offline (by reason), and busy for longer than `stuck_after_s`. Gateway reachability and pairing are not in the read model: see GET /api/v1/gateways/{id}/status.",
      requestParams: {
        query: FleetSummaryQuery.extend({
          stuck_after_s: FleetSummaryQuery.shape.stuck_after_s.meta({ description: "An agent busy for longer than this (seconds) counts as stuck." })
        })
      },
      responses: { "200": answer("The fleet's counts and problems.", FleetSummaryView) }
    })
  }
}
