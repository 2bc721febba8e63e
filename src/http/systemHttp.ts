import { HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { AGENT_MACHINE_VERSION, agentMachine } from "../../machines/agent/agentMachine.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { knownStatePaths } from "../agents/machineVocabulary.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { refreshAgentStates } from "../observability/agentMetrics.ts"
import { metricsRegistry } from "../observability/metrics.ts"
import { pingDatabase } from "../database/Database.ts"
import { reply } from "./Endpoint.ts"
import { docsAssets } from "./openapi/docsAssets.ts"
import { openApiDocument } from "./openapi/openApiDocument.ts"
import { serve } from "./serve.ts"
import { MachineDefinition, systemApi } from "./systemApi.ts"

/**
 * The machine's config as JSON (functions dropped; guards, actions and actors by name), as
 * `createMachine` takes it, so Stately's visualiser imports it as is. It carries `version`.
 */
const machineDefinition = MachineDefinition.parse(JSON.parse(JSON.stringify(agentMachine.config)))
if (machineDefinition.version !== AGENT_MACHINE_VERSION) throw new Error("the agent machine config must carry its version")

/** The gauge counts agents that are not deleted, so `deleted` is not one of its series. */
const LIVE_STATES = knownStatePaths.filter((state) => state !== "deleted")

/** `/readyz` once the actors are restored: 200 while the database answers `select 1` in time, else 503 (`Retry-After`). */
const databaseReadiness = Effect.flatMap(AppConfig, (config) => pingDatabase(config.dbAcquireTimeoutMs)).pipe(
  Effect.as(reply(200, { ok: true })),
  Effect.catchTag("DatabaseUnavailable", (error) =>
    Effect.logWarning("readiness: database unavailable").pipe(
      Effect.annotateLogs({ reason: error.reason }),
      Effect.as(reply(503, { ok: false, detail: "database unavailable" }, { "retry-after": "5" }))
    )
  )
)

/**
 * `/healthz` answers while the process is up; `/readyz` only once migrations have run (they run
 * before the server is built), every agent actor has been restored, and while the database
 * answers within `dbAcquireTimeoutMs` (so a load balancer stops sending traffic while it is down
 * or hung). `/openapi.json` and `/docs` (Swagger UI, from node_modules) are public: agents
 * discover their operations there. `/metrics` counts agents by state from the read model at
 * scrape time; if the database does not answer, the other metrics are still served.
 */
export const systemHttp = serve(systemApi, {
  healthz: () => Effect.succeed(reply(200, { ok: true })),
  readyz: () =>
    Effect.flatMap(AgentSystem, (system) => system.readiness).pipe(
      Effect.flatMap((readiness) => {
        switch (readiness.state) {
          case "ready":
            return databaseReadiness
          case "restoring":
            return Effect.succeed(reply(503, { ok: false, detail: readiness.reason === undefined ? "restoring agent actors" : `restoring agent actors: ${readiness.reason}` }))
          case "failed":
            return Effect.succeed(reply(503, { ok: false, detail: `restoring agent actors failed: ${readiness.reason}` }))
        }
      })
    ),
  getAgentMachine: () => Effect.succeed(reply(200, machineDefinition)),
  getOpenApi: () => Effect.sync(() => reply(200, openApiDocument() as { openapi: string })),
  // Swagger UI sets inline styles; its icons are `data:` images.
  getDocs: () => docsAssets.page({ inlineStyles: true }),
  getDocsAsset: ({ params }) => docsAssets.file(params.asset),
  getMetrics: () =>
    Effect.gen(function* () {
      yield* refreshAgentStates(LIVE_STATES).pipe(Effect.catchAll((error) => Effect.logWarning("metrics: could not count agents by state", error)))
      const body = yield* Effect.promise(() => metricsRegistry.metrics())
      return HttpServerResponse.text(body, { contentType: metricsRegistry.contentType })
    })
})
