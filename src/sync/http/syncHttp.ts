import { Sse } from "@effect/experimental"
import { Effect, Stream } from "effect"
import { reply, type Shape } from "../../http/Endpoint.ts"
import { serve } from "../../http/serve.ts"
import { eventStreamResponse, PING_EVERY, withPings } from "../../streams/sse.ts"
import { SyncJobRepo } from "../../store/SyncJobRepo.ts"
import { SyncJobs } from "../SyncJobs.ts"
import { syncJobSummary } from "../syncJobReport.ts"
import { syncApi } from "./syncApi.ts"
import type { SyncJobEventSchema } from "./SyncJobView.ts"
import { syncOptions } from "./syncOptions.ts"

const jobPath = (gatewayId: string, jobId: string) => `/api/v1/gateways/${gatewayId}/templates/sync/${jobId}`

/** One server-sent event: its type as `event`, the whole event (a `SyncJobEvent`) as JSON `data`. */
const sse = (event: Shape<typeof SyncJobEventSchema>) =>
  Sse.encoder.write({ _tag: "Event", event: event.type, id: undefined, data: JSON.stringify(event) })

/** The handlers of `syncApi`: they validate, queue the job and read its stored result or live feed, or list the newest jobs; the job itself runs in `SyncJobs`. */
export const syncHttp = serve(syncApi, {
  // The newest jobs of every gateway with their progress, read from the jobs' own counters (the fleet view's list).
  listTemplateSyncJobs: ({ query }) => Effect.map(Effect.flatMap(SyncJobRepo, (repo) => repo.recent(query.limit)), (jobs) => reply(200, { items: jobs.map(syncJobSummary), limit: query.limit })),
  startTemplateSync: ({ params, query, body }) =>
    Effect.gen(function* () {
      const options = yield* syncOptions(query, body)
      const jobs = yield* SyncJobs
      return yield* jobs.start(params.id, options).pipe(
        Effect.map((job) =>
          reply(202, { job_id: job.id, gateway_id: job.gatewayId, status: job.status, href: jobPath(params.id, job.id), events_href: `${jobPath(params.id, job.id)}/events` }, { location: jobPath(params.id, job.id) })
        ),
        Effect.catchTag("SyncJobActive", (active) =>
          Effect.succeed(reply(409, { detail: `a template sync of this gateway is already queued or running: job ${active.jobId}`, job_id: active.jobId, href: jobPath(params.id, active.jobId) }))
        )
      )
    }),
  getTemplateSync: ({ params }) => Effect.map(Effect.flatMap(SyncJobs, (jobs) => jobs.report(params.id, params.job)), (report) => reply(200, report)),
  streamTemplateSync: ({ params }) =>
    Effect.map(Effect.flatMap(SyncJobs, (jobs) => jobs.events(params.id, params.job)), (events) => eventStreamResponse(withPings(Stream.map(events, sse), PING_EVERY)))
})
