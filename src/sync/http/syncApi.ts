import { z } from "zod"
import { IdParams } from "../../http/contract.ts"
import { adminGet, answer, endpoints, raw } from "../../http/Endpoint.ts"
import { SyncJobConflict, SyncJobList, SyncJobReport, SyncJobStarted } from "./SyncJobView.ts"
import { SyncBody, SyncJobListQuery, SyncJobParams, SyncQuery } from "./syncOptions.ts"

const templateSync = { kind: "admin", resource: "template-sync" } as const

/**
 * `/api/v1/gateways/{id}/templates/sync`: template sync as a background job, and
 * `/api/v1/templates/sync/jobs`: the newest jobs of every gateway (admin; docs/operations.md §6.8,
 * docs/architecture.md §9.2).
 */
export const syncApi = endpoints({
  listTemplateSyncJobs: adminGet("/api/v1/templates/sync/jobs", "template-sync", "Recent template sync jobs", answer("The jobs.", SyncJobList), {
    description: "The newest jobs of every gateway, newest first, each with its status and progress (no per-agent results: see the job's result).",
    query: SyncJobListQuery
  }),
  startTemplateSync: {
    method: "post",
    path: "/api/v1/gateways/{id}/templates/sync",
    access: templateSync,
    summary: "Start a template sync",
    description:
      "Re-renders and rewrites the workspace files of the gateway's agents in the background (Mission Control's `sync_gateway_templates`); the answer comes at once. The job is stored and resumes after a restart.",
    params: IdParams,
    query: SyncQuery,
    body: SyncBody,
    bodyOptional: true,
    responses: {
      202: answer("Queued.", SyncJobStarted, z.object({ location: z.string().meta({ description: "The job's result." }) })),
      409: answer("The gateway already has a queued or running job (its `job_id`), or it is being deleted.", SyncJobConflict.or(z.object({ detail: z.string() })))
    },
    failures: [400, 404]
  },
  getTemplateSync: {
    method: "get",
    path: "/api/v1/gateways/{id}/templates/sync/{job}",
    access: templateSync,
    summary: "A template sync job's result",
    params: SyncJobParams,
    responses: { 200: answer("The job's result so far.", SyncJobReport) },
    failures: [404]
  },
  streamTemplateSync: {
    method: "get",
    path: "/api/v1/gateways/{id}/templates/sync/{job}/events",
    access: templateSync,
    summary: "Follow a template sync job (server-sent events)",
    description:
      "`text/event-stream`: `progress` first, one `agent` event per agent result, then `done` with the result, then the stream closes. Each `data:` is a JSON `SyncJobEvent` (see components); `: ping` comments keep idle proxies open.",
    params: SyncJobParams,
    responses: { 200: raw("The job's events.", "text/event-stream", z.string().meta({ description: "Server-sent events; `data:` is a SyncJobEvent." })) },
    failures: [404]
  }
})
