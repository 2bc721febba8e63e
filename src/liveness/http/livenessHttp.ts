import { Effect } from "effect"
import { notFound } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { serve } from "../../http/serve.ts"
import { GatewayLiveness } from "../GatewayLiveness.ts"
import { livenessApi } from "./livenessApi.ts"
import { gatewayLivenessView } from "./LivenessView.ts"

/** The handler of `livenessApi`: the watcher's status of the gateway; 404 when no watcher runs for it in this process (docs/operations.md §8). */
export const livenessHttp = serve(livenessApi, {
  gatewayLiveness: ({ params }) =>
    Effect.flatMap(GatewayLiveness, (registry) => registry.get(params.id)).pipe(
      Effect.flatMap((status) => (status === undefined ? Effect.fail(notFound("gateway liveness")) : Effect.succeed(reply(200, gatewayLivenessView(status)))))
    )
})
