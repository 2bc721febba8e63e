import { HttpMiddleware, HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { knownStatePaths } from "../../agents/machineVocabulary.ts"
import { refreshAgentStates } from "../../observability/agentMetrics.ts"
import { metricsRegistry } from "../../observability/metrics.ts"

/** The gauge counts agents that are not deleted, so `deleted` is not one of its series. */
const LIVE_STATES = knownStatePaths.filter((state) => state !== "deleted")

/**
 * `GET /metrics`: Prometheus text format. Agents by state are counted from the read model at
 * scrape time, every state of the machine included (0 when empty); if the database does not answer, the other metrics are still served. Scrapes are
 * not logged (one every few seconds would drown the log).
 */
export const metricsRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/metrics",
    Effect.gen(function* () {
      yield* refreshAgentStates(LIVE_STATES).pipe(Effect.catchAll((error) => Effect.logWarning("metrics: could not count agents by state", error)))
      const body = yield* Effect.promise(() => metricsRegistry.metrics())
      return HttpServerResponse.text(body, { contentType: metricsRegistry.contentType })
    }).pipe(HttpMiddleware.withLoggerDisabled)
  )
)
