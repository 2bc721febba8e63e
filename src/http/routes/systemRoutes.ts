import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { AGENT_MACHINE_VERSION, agentMachine } from "../../../machines/agent/agentMachine.ts"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { json } from "../respond.ts"

/** The machine's config as JSON (functions dropped), importable in Stately's visualiser. */
const machineDefinition = { version: AGENT_MACHINE_VERSION, config: JSON.parse(JSON.stringify(agentMachine.config)) as unknown }

/**
 * `/healthz` answers while the process is up; `/readyz` only once migrations have run (they
 * run before the server is built) and every agent actor has been restored.
 */
export const systemRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/healthz", Effect.succeed(json({ ok: true }))),
  HttpRouter.get(
    "/readyz",
    Effect.flatMap(AgentSystem, (system) => system.ready).pipe(
      Effect.map((ready) => (ready ? json({ ok: true }) : json({ ok: false, detail: "restoring agent actors" }, 503)))
    )
  ),
  HttpRouter.get("/api/v1/machines/agent", Effect.succeed(json(machineDefinition)))
)
