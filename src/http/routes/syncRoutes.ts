import { Sse } from "@effect/experimental"
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect, Stream } from "effect"
import { eventStreamResponse, PING_EVERY, withPings } from "../../streams/sse.ts"
import { SyncJobRepo } from "../../store/SyncJobRepo.ts"
import { SyncJobs } from "../../sync/SyncJobs.ts"
import { syncJobSummary } from "../../sync/syncJobReport.ts"
import type { SyncJobEvent } from "../../sync/SyncJobFeed.ts"
import { conflict, notFound } from "../ApiError.ts"
import { admin } from "../admin.ts"
import { IdParams } from "../contract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { json } from "../respond.ts"
import { SyncBody, SyncJobListQuery, SyncJobParams, SyncQuery, syncOptions } from "../syncContract.ts"

const jobPath = (gatewayId: string, jobId: string) => `/api/v1/gateways/${gatewayId}/templates/sync/${jobId}`

/** One server-sent event: its type as `event`, the whole event as JSON `data`. */
const sse = (event: SyncJobEvent) => Sse.encoder.write({ _tag: "Event", event: event.type, id: undefined, data: JSON.stringify(event) })

const jobNotFound = () => Effect.fail(notFound("sync job"))

/**
 * Template sync as a background job (admin; docs/operations.md §6.8, docs/architecture.md §9.2). The handlers validate,
 * queue the job and read its stored result or live feed; the job itself runs in `SyncJobs`.
 */
export const syncRoutes = HttpRouter.empty.pipe(
  // The newest jobs of every gateway with their progress, read from the jobs' own counters (the fleet view's list).
  HttpRouter.get(
    "/api/v1/templates/sync/jobs",
    admin(
      Effect.gen(function* () {
        const { limit } = yield* decodeQuery(SyncJobListQuery)
        const jobs = yield* Effect.flatMap(SyncJobRepo, (repo) => repo.recent(limit))
        return json({ items: jobs.map(syncJobSummary), limit })
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/gateways/:id/templates/sync",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const query = yield* decodeQuery(SyncQuery)
        const body = yield* decodeBody(SyncBody)
        const options = yield* syncOptions(query, body)
        const jobs = yield* SyncJobs
        return yield* jobs.start(id, options).pipe(
          Effect.map((job) =>
            HttpServerResponse.unsafeJson(
              { job_id: job.id, gateway_id: job.gatewayId, status: job.status, href: jobPath(id, job.id), events_href: `${jobPath(id, job.id)}/events` },
              { status: 202, headers: { location: jobPath(id, job.id) } }
            )
          ),
          Effect.catchTags({
            SyncGatewayNotFound: () => Effect.fail(notFound("gateway")),
            SyncGatewayDeleting: () => Effect.fail(conflict("the gateway is being deleted; nothing is synced to it")),
            SyncBoardNotFound: () => Effect.fail(notFound("board on this gateway")),
            SyncJobActive: (active) =>
              Effect.succeed(
                json({ detail: `a template sync of this gateway is already queued or running: job ${active.jobId}`, job_id: active.jobId, href: jobPath(id, active.jobId) }, 409)
              )
          })
        )
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id/templates/sync/:job",
    admin(
      Effect.gen(function* () {
        const { id, job } = yield* decodeParams(SyncJobParams)
        const report = yield* Effect.flatMap(SyncJobs, (jobs) => jobs.report(id, job)).pipe(Effect.catchTag("SyncJobNotFound", jobNotFound))
        return json(report)
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/gateways/:id/templates/sync/:job/events",
    admin(
      Effect.gen(function* () {
        const { id, job } = yield* decodeParams(SyncJobParams)
        const events = yield* Effect.flatMap(SyncJobs, (jobs) => jobs.events(id, job)).pipe(Effect.catchTag("SyncJobNotFound", jobNotFound))
        return eventStreamResponse(withPings(Stream.map(events, sse), PING_EVERY))
      })
    )
  )
)
