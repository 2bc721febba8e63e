import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { IdParams } from "../contract.ts"
import { SyncBody, SyncJobParams, SyncQuery } from "../syncContract.ts"
import { adminOperation, answer, optionalJson } from "./legacyOperations.ts"
import { SyncJobConflict, SyncJobReport, SyncJobStarted } from "./syncSchemas.ts"

const flag = (description: string) => ({ description: `${description} \`true\` or \`false\`; also accepted in the JSON body.` })

const SyncQueryDoc = SyncQuery.extend({
  include_main: SyncQuery.shape.include_main.meta(flag("Also sync the gateway-main agent (default true).")),
  lead_only: SyncQuery.shape.lead_only.meta(flag("Only board leads.")),
  reset_sessions: SyncQuery.shape.reset_sessions.meta(flag("Reset each agent's session.")),
  rotate_tokens: SyncQuery.shape.rotate_tokens.meta(flag("Mint a new token for every agent.")),
  force_bootstrap: SyncQuery.shape.force_bootstrap.meta(flag("Write BOOTSTRAP.md again.")),
  overwrite: SyncQuery.shape.overwrite.meta(flag("Overwrite files agents may edit (USER.md, MEMORY.md).")),
  board_id: SyncQuery.shape.board_id.meta({ description: "Only this board's agents." })
})

/** `/api/v1/gateways/{id}/templates/sync`: template sync as a background job (admin). */
export const syncPaths: ZodOpenApiPathsObject = {
  "/api/v1/gateways/{id}/templates/sync": {
    post: adminOperation("template-sync", {
      operationId: "startTemplateSync",
      summary: "Start a template sync",
      description:
        "Re-renders and rewrites the workspace files of the gateway's agents in the background (Mission Control's `sync_gateway_templates`); the answer comes at once. The job is stored and resumes after a restart.",
      requestParams: { path: IdParams, query: SyncQueryDoc },
      requestBody: optionalJson(SyncBody),
      responses: {
        "202": { ...answer("Queued.", SyncJobStarted), headers: z.object({ location: z.string().meta({ description: "The job's result." }) }) },
        "409": answer("The gateway already has a queued or running job (its `job_id`), or it is being deleted.", SyncJobConflict.or(z.object({ detail: z.string() })))
      },
      failures: [400, 404]
    })
  },
  "/api/v1/gateways/{id}/templates/sync/{job}": {
    get: adminOperation("template-sync", {
      operationId: "getTemplateSync",
      summary: "A template sync job's result",
      requestParams: { path: SyncJobParams },
      responses: { "200": answer("The job's result so far.", SyncJobReport) },
      failures: [404]
    })
  },
  "/api/v1/gateways/{id}/templates/sync/{job}/events": {
    get: adminOperation("template-sync", {
      operationId: "streamTemplateSync",
      summary: "Follow a template sync job (server-sent events)",
      description:
        "`text/event-stream`: `progress` first, one `agent` event per agent result, then `done` with the result, then the stream closes. Each `data:` is a JSON `SyncJobEvent` (see components); `: ping` comments keep idle proxies open.",
      requestParams: { path: SyncJobParams },
      responses: {
        "200": { description: "The job's events.", content: { "text/event-stream": { schema: z.string().meta({ description: "Server-sent events; `data:` is a SyncJobEvent." }) } } }
      },
      failures: [404]
    })
  }
}
