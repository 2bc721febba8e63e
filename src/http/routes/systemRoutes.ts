import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { AGENT_MACHINE_VERSION, agentMachine } from "../../../machines/agent/agentMachine.ts"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { AppConfig } from "../../config/AppConfig.ts"
import { pingDatabase } from "../../store/Database.ts"
import { json } from "../respond.ts"

/**
 * The machine's config as JSON (functions dropped; guards, actions and actors by name), as
 * `createMachine` takes it, so Stately's visualiser imports it as is. It carries `version`.
 */
const machineDefinition = JSON.parse(JSON.stringify(agentMachine.config)) as { readonly version?: string }
if (machineDefinition.version !== AGENT_MACHINE_VERSION) throw new Error("the agent machine config must carry its version")

/** `/readyz` once the actors are restored: 200 while the database answers `select 1` in time, else 503. */
const databaseReadiness = Effect.flatMap(AppConfig, (config) => pingDatabase(config.dbAcquireTimeoutMs)).pipe(
  Effect.as(json({ ok: true })),
  Effect.catchTag("DatabaseUnavailable", (error) =>
    Effect.logWarning("readiness: database unavailable").pipe(
      Effect.annotateLogs({ reason: error.reason }),
      Effect.as(HttpServerResponse.unsafeJson({ ok: false, detail: "database unavailable" }, { status: 503, headers: { "retry-after": "5" } }))
    )
  )
)

/**
 * `/healthz` answers while the process is up; `/readyz` only once migrations have run (they
 * run before the server is built), every agent actor has been restored, and while the
 * database answers within `dbAcquireTimeoutMs` (so a load balancer stops sending traffic
 * while it is down or hung).
 */
export const systemRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/healthz", Effect.succeed(json({ ok: true }))),
  HttpRouter.get(
    "/readyz",
    Effect.flatMap(AgentSystem, (system) => system.readiness).pipe(
      Effect.flatMap((readiness) => {
        switch (readiness.state) {
          case "ready":
            return databaseReadiness
          case "restoring":
            return Effect.succeed(json({ ok: false, detail: "restoring agent actors" }, 503))
          case "failed":
            return Effect.succeed(json({ ok: false, detail: `restoring agent actors failed: ${readiness.reason}` }, 503))
        }
      })
    )
  ),
  HttpRouter.get("/api/v1/machines/agent", Effect.succeed(json(machineDefinition)))
)
