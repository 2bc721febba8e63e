import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { GatewayLiveness } from "../../liveness/GatewayLiveness.ts"
import { gatewayLivenessView } from "../../liveness/livenessView.ts"
import { admin } from "../admin.ts"
import { notFound } from "../ApiError.ts"
import { IdParams } from "../contract.ts"
import { decodeParams } from "../decode.ts"
import { json } from "../respond.ts"

/** What a gateway's liveness watcher knows (admin; docs/operations.md §8); 404 when no watcher runs for it here. */
export const livenessRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/gateways/:id/liveness",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const status = yield* Effect.flatMap(GatewayLiveness, (registry) => registry.get(id))
        if (status === undefined) return yield* Effect.fail(notFound("gateway liveness"))
        return json(gatewayLivenessView(status))
      })
    )
  )
)
