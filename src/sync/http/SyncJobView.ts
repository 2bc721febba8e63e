import { z } from "zod"
import { time } from "../../http/timestamps.ts"

/** Response schemas of template sync (`/api/v1/gateways/{id}/templates/sync`); handlers and the event stream are typed against them. */

const status = z.enum(["queued", "running", "done", "failed"])
export const SyncProgress = z
  .object({ total: z.int(), done: z.int(), updated: z.int(), skipped: z.int(), failed: z.int() })
  .meta({ id: "SyncProgress", description: "`done` = updated + skipped + failed." })

export const SyncAgentResult = z
  .object({
    agent_id: z.uuid(),
    agent_name: z.string(),
    board_id: z.uuid().nullable(),
    status: z.enum(["pending", "updated", "skipped", "error"]),
    message: z.string().nullable(),
    token_source: z.string().nullable().meta({ description: "`minted`, `recovered`, `mismatch` or `missing`." }),
    attempts: z.int()
  })
  .meta({ id: "SyncAgentResult" })

export const SyncJobReport = z
  .object({
    job_id: z.uuid(),
    gateway_id: z.uuid(),
    status,
    include_main: z.boolean(),
    reset_sessions: z.boolean(),
    lead_only: z.boolean(),
    rotate_tokens: z.boolean(),
    force_bootstrap: z.boolean(),
    overwrite: z.boolean(),
    board_id: z.uuid().nullable(),
    agents_updated: z.int(),
    agents_skipped: z.int(),
    main_updated: z.boolean(),
    errors: z.array(z.object({ agent_id: z.uuid().nullable(), agent_name: z.string().nullable(), board_id: z.uuid().nullable(), message: z.string() })),
    progress: SyncProgress,
    agents: z.array(SyncAgentResult),
    created_at: time,
    started_at: time.nullable(),
    finished_at: time.nullable()
  })
  .meta({ id: "SyncJobReport", description: "Mission Control's `GatewayTemplatesSyncResult` plus the job's status, progress and every agent's result." })

export const SyncJobSummary = z
  .object({
    job_id: z.uuid(),
    gateway_id: z.uuid(),
    board_id: z.uuid().nullable(),
    status,
    message: z.string().nullable().meta({ description: "Why the job itself failed (not an agent's error)." }),
    progress: SyncProgress,
    created_at: time,
    started_at: time.nullable(),
    finished_at: time.nullable()
  })
  .meta({ id: "SyncJobSummary", description: "A job in the list: status and progress, without the per-agent results." })

export const SyncJobList = z.object({ items: z.array(SyncJobSummary), limit: z.int() })

export const SyncJobStarted = z.object({
  job_id: z.uuid(),
  gateway_id: z.uuid(),
  status,
  href: z.string().meta({ description: "The job's result (also in `Location`)." }),
  events_href: z.string().meta({ description: "The job's event stream." })
})

export const SyncJobConflict = z.object({ detail: z.string(), job_id: z.uuid(), href: z.string() })

/** One event of `/events`: its `type` is also the SSE `event:` field. */
export const SyncJobEventSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("progress"), job_id: z.uuid(), status, progress: SyncProgress }),
    z.object({ type: z.literal("agent"), job_id: z.uuid(), agent: SyncAgentResult, progress: SyncProgress }),
    z.object({ type: z.literal("done"), job_id: z.uuid(), result: SyncJobReport }),
    // The run stopped on this instance without a result (its gateway moved, the service stopped): the job goes on.
    z.object({ type: z.literal("stopped"), job_id: z.uuid(), reason: z.string(), progress: SyncProgress })
  ])
  .meta({ id: "SyncJobEvent" })

