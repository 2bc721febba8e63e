import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { clusterView } from "../../cluster/clusterView.ts"
import { admin } from "../admin.ts"
import { json } from "../respond.ts"

/** `GET /api/v1/cluster` (admin): this runner, the runners and each gateway's owner (src/cluster/clusterView.ts); 503 if the engine's storage does not answer. */
export const clusterRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/cluster",
    admin(clusterView.pipe(Effect.map((view) => json(view)), Effect.catchAll(() => Effect.succeed(HttpServerResponse.unsafeJson({ detail: "cluster storage unavailable" }, { status: 503, headers: { "retry-after": "5" } })))))
  )
)
