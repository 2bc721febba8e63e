import { Effect } from "effect"
import { ApiError } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { serve } from "../../http/serve.ts"
import { clusterView } from "../clusterView.ts"
import { clusterApi } from "./clusterApi.ts"

/** The engine's storage or the database did not answer: 503, retry after 5 s. */
const storageUnavailable = new ApiError({ status: 503, detail: "cluster storage unavailable", headers: { "retry-after": "5" } })

/** The handler of `clusterApi`: the view as every runner computes it (src/cluster/clusterView.ts); 503 if the engine's storage does not answer. */
export const clusterHttp = serve(clusterApi, {
  clusterView: () =>
    clusterView.pipe(
      Effect.map((view) => reply(200, view)),
      Effect.mapError(() => storageUnavailable)
    )
})
