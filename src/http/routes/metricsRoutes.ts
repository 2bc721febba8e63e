import { HttpMiddleware, HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { refreshAgentStates } from "../../observability/agentMetrics.ts"
import { metricsRegistry } from "../../observability/metrics.ts"

/**
 * `GET /metrics`: Prometheus text format. Agents by state are counted from the read model at
 * scrape time; if the database does not answer, the other metrics are still served. Scrapes are
 * not logged (one every few seconds would drown the log).
 */
export const metricsRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/metrics",
    Effect.gen(function* () {
      yield* refreshAgentStates.pipe(Effect.catchAll((error) => Effect.logWarning("metrics: could not count agents by state", error)))
      const body = yield* Effect.promise(() => metricsRegistry.metrics())
      return HttpServerResponse.text(body, { contentType: metricsRegistry.contentType })
    }).pipe(HttpMiddleware.withLoggerDisabled)
  )
)
