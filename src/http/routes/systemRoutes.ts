import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { AGENT_MACHINE_VERSION, agentMachine } from "../../../machines/agent/agentMachine.ts"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { json } from "../respond.ts"

/**
 * The machine's config as JSON (functions dropped; guards, actions and actors by name), as
 * `createMachine` takes it, so Stately's visualiser imports it as is. It carries `version`.
 */
const machineDefinition = JSON.parse(JSON.stringify(agentMachine.config)) as { readonly version?: string }
if (machineDefinition.version !== AGENT_MACHINE_VERSION) throw new Error("the agent machine config must carry its version")

/**
 * `/healthz` answers while the process is up; `/readyz` only once migrations have run (they
 * run before the server is built) and every agent actor has been restored.
 */
export const systemRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/healthz", Effect.succeed(json({ ok: true }))),
  HttpRouter.get(
    "/readyz",
    Effect.flatMap(AgentSystem, (system) => system.readiness).pipe(
      Effect.map((readiness) => {
        switch (readiness.state) {
          case "ready":
            return json({ ok: true })
          case "restoring":
            return json({ ok: false, detail: "restoring agent actors" }, 503)
          case "failed":
            return json({ ok: false, detail: `restoring agent actors failed: ${readiness.reason}` }, 503)
        }
      })
    )
  ),
  HttpRouter.get("/api/v1/machines/agent", Effect.succeed(json(machineDefinition)))
)
