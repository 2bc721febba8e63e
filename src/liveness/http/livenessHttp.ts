import { Effect, Option } from "effect"
import { ownerLiveness } from "../../cluster/gatewayOnOwner.ts"
import { ApiError, notFound } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { serve } from "../../http/serve.ts"
import { GatewayRepo } from "../../store/GatewayRepo.ts"
import type { GatewayLivenessStatus } from "../GatewayLiveness.ts"
import { livenessApi } from "./livenessApi.ts"
import { gatewayLivenessView } from "./LivenessView.ts"

/**
 * The handler of `livenessApi`: the watcher's status of the gateway, read on the gateway's owner
 * whichever instance answers (docs/operations.md §8, docs/architecture.md §11); 404 for an
 * unknown gateway or one no watcher runs for, 503 with `Retry-After` while its owner does not
 * answer.
 */
export const livenessHttp = serve(livenessApi, {
  gatewayLiveness: ({ params }) =>
    Effect.gen(function* () {
      // Only a stored gateway is asked for: a message starts the gateway's entity.
      if (Option.isNone(yield* Effect.flatMap(GatewayRepo, (repo) => repo.get(params.id)))) return yield* notFound("gateway")
      const status = yield* ownerLiveness(params.id).pipe(
        Effect.catchTag("GatewayOwnerUnavailable", () =>
          Effect.fail(new ApiError({ status: 503, detail: "the instance that owns this gateway is unavailable or moving it; retry shortly", headers: { "retry-after": "2" } }))
        )
      )
      if (status === null) return yield* notFound("gateway liveness")
      return reply(200, gatewayLivenessView(status as GatewayLivenessStatus))
    })
})
