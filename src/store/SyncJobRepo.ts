import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Chunk, Context, Effect, Layer, Option } from "effect"
import { syncJobWrites } from "./syncJobWrites.ts"

/** What a template sync was asked to do (the flags of docs/operations.md §6.8). */
export interface SyncJobOptions {
  readonly includeMain: boolean
  readonly leadOnly: boolean
  readonly resetSessions: boolean
  readonly rotateTokens: boolean
  readonly forceBootstrap: boolean
  readonly overwrite: boolean
  /** Only this board's agents (the main agent still follows `includeMain`). */
  readonly boardId: string | null
}

export type SyncJobStatus = "queued" | "running" | "done" | "failed"

export interface SyncJobRow {
  readonly id: string
  readonly gatewayId: string
  readonly options: SyncJobOptions
  readonly status: SyncJobStatus
  /** Why the job itself failed (not an agent's error). */
  readonly message: string | null
  /** Whether the job's agents were selected and stored (a resumed job never selects again). */
  readonly planned: boolean
  readonly totalCount: number
  readonly updatedCount: number
  readonly skippedCount: number
  readonly failedCount: number
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly finishedAt: Date | null
}

export type SyncAgentStatus = "pending" | "updated" | "skipped" | "error"

/** One agent of a job. `sentGeneration`: the agent generation its `agent.update` produces, written before it is sent. */
export interface SyncAgentRow {
  readonly jobId: string
  readonly agentId: string
  readonly position: number
  readonly agentName: string
  readonly boardId: string | null
  readonly role: string
  readonly status: SyncAgentStatus
  readonly message: string | null
  readonly tokenSource: string | null
  readonly sentGeneration: number | null
  readonly attempts: number
  readonly updatedAt: Date
}

/** A live agent of the gateway as selection sees it, with its board's state. */
export interface SyncCandidate {
  readonly id: string
  readonly name: string
  readonly boardId: string | null
  readonly role: string
  readonly boardFound: boolean
  readonly boardPaused: boolean
}

export type PlannedAgent = Pick<SyncAgentRow, "agentId" | "position" | "agentName" | "boardId" | "role" | "message" | "sentGeneration"> & {
  readonly status: "pending" | "skipped"
}

export interface SyncAgentResult {
  readonly status: "updated" | "skipped" | "error"
  readonly message: string | null
  readonly tokenSource: string | null
}

export interface SyncJobRepoShape {
  /** A new `queued` job. A second active job for the gateway fails with a unique violation (23505). */
  readonly insert: (job: { readonly id: string; readonly gatewayId: string; readonly options: SyncJobOptions }) => Effect.Effect<SyncJobRow, SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<SyncJobRow>, SqlError>
  /** The gateway's queued or running job, if any. */
  readonly active: (gatewayId: string) => Effect.Effect<Option.Option<SyncJobRow>, SqlError>
  /** The newest `limit` jobs of every gateway, newest first (the fleet view's job list). */
  readonly recent: (limit: number) => Effect.Effect<ReadonlyArray<SyncJobRow>, SqlError>
  /** Every queued or running job, oldest first (to resume at start-up). */
  readonly unfinished: Effect.Effect<ReadonlyArray<SyncJobRow>, SqlError>
  /** The gateway's live agents with their boards, oldest first by `created_at` (docs/operations.md §6.8). */
  readonly candidates: (gatewayId: string) => Effect.Effect<ReadonlyArray<SyncCandidate>, SqlError>
  /** Marks the job running (first start time kept). */
  readonly markRunning: (jobId: string) => Effect.Effect<void, SqlError>
  /** Stores the selected agents and their counts, and marks the job planned, in one transaction. */
  readonly plan: (jobId: string, agents: ReadonlyArray<PlannedAgent>) => Effect.Effect<void, SqlError>
  /** The job's agents in sync order. */
  readonly agents: (jobId: string) => Effect.Effect<ReadonlyArray<SyncAgentRow>, SqlError>
  /**
   * Records, before the event is sent, which generation the agent's update will have and the
   * attempt number. Calls that arrive while one is being written share the next statement
   * (`batchedStatements`): durable when it completes.
   */
  readonly markSent: (jobId: string, agentId: string, generation: number, attempts: number) => Effect.Effect<void, SqlError>
  /**
   * Records a pending agent's result and counts it; false when it was no longer pending (already
   * recorded, or recorded by an earlier call of the same statement). Calls that arrive while one
   * is being written share the next statement (`batchedStatements`).
   */
  readonly record: (jobId: string, agentId: string, result: SyncAgentResult) => Effect.Effect<boolean, SqlError>
  readonly finish: (jobId: string, status: "done" | "failed", message: string | null) => Effect.Effect<void, SqlError>
}

/** Template sync jobs and their per-agent results (migration 0005). */
export class SyncJobRepo extends Context.Tag("switchyard/SyncJobRepo")<SyncJobRepo, SyncJobRepoShape>() {}

const JOB_COLUMNS = `id, gateway_id, options, status, message, planned, total_count, updated_count, skipped_count, failed_count,
  created_at, started_at, finished_at`

/** Rows per insert statement: 11 parameters each stays far below Postgres' 65 535. */
const INSERT_CHUNK = 1_000

export const SyncJobRepoLive = Layer.effect(
  SyncJobRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.unsafe(JOB_COLUMNS)
    const first = <A>(rows: ReadonlyArray<A>) => Option.fromNullable(rows[0])
    const { markSent, record } = syncJobWrites(sql)
    return SyncJobRepo.of({
      insert: ({ id, gatewayId, options }) =>
        sql<SyncJobRow>`insert into sync_jobs ${sql.insert({ id, gatewayId, options: JSON.stringify(options) })} returning ${columns}`.pipe(
          Effect.map((rows) => rows[0]!)
        ),
      get: (id) => sql<SyncJobRow>`select ${columns} from sync_jobs where id = ${id}`.pipe(Effect.map(first)),
      active: (gatewayId) =>
        sql<SyncJobRow>`select ${columns} from sync_jobs where gateway_id = ${gatewayId} and status in ('queued', 'running')`.pipe(Effect.map(first)),
      recent: (limit) => sql<SyncJobRow>`select ${columns} from sync_jobs order by created_at desc, id limit ${limit}`,
      unfinished: sql<SyncJobRow>`select ${columns} from sync_jobs where status in ('queued', 'running') order by created_at`,
      candidates: (gatewayId) =>
        sql<SyncCandidate>`
          select a.id, a.name, a.board_id, a.role, b.id is not null as board_found, coalesce(b.paused, false) as board_paused
          from agents a left join boards b on b.id = a.board_id
          where a.gateway_id = ${gatewayId} and a.deleted_at is null
          order by a.created_at, a.id`,
      markRunning: (jobId) =>
        sql`update sync_jobs set status = 'running', started_at = coalesce(started_at, now()) where id = ${jobId} and status in ('queued', 'running')`.pipe(
          Effect.asVoid
        ),
      plan: (jobId, agents) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const rows = agents.map((agent) => ({ jobId, ...agent }))
              for (const chunk of Chunk.chunksOf(Chunk.fromIterable(rows), INSERT_CHUNK)) {
                yield* sql`insert into sync_job_agents ${sql.insert(Chunk.toArray(chunk))} on conflict do nothing`
              }
              yield* sql`
                update sync_jobs set planned = true,
                  total_count = (select count(*) from sync_job_agents where job_id = ${jobId}),
                  skipped_count = (select count(*) from sync_job_agents where job_id = ${jobId} and status = 'skipped')
                where id = ${jobId}`
            })
          )
          .pipe(Effect.asVoid),
      agents: (jobId) =>
        sql<SyncAgentRow>`
          select job_id, agent_id, position, agent_name, board_id, role, status, message, token_source, sent_generation, attempts, updated_at
          from sync_job_agents where job_id = ${jobId} order by position`,
      markSent: (jobId, agentId, generation, attempts) => markSent({ jobId, agentId, generation, attempts }),
      record: (jobId, agentId, result) => record({ jobId, agentId, result }),
      finish: (jobId, status, message) =>
        sql`update sync_jobs set status = ${status}, message = ${message}, finished_at = now() where id = ${jobId}`.pipe(Effect.asVoid)
    })
  })
)
