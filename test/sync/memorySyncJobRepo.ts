import { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer, Option } from "effect"
import { SyncJobRepo, type SyncAgentRow, type SyncCandidate, type SyncJobOptions, type SyncJobRow } from "../../src/store/SyncJobRepo.ts"
import { GATEWAY_ID, type FleetAgent } from "./fakeFleet.ts"

/** A job as `insert` stores it: queued, unplanned, no counts, created now. */
export const queuedJob = ({ id, gatewayId, options }: { id: string; gatewayId: string; options: SyncJobOptions }): SyncJobRow => ({
  id,
  gatewayId,
  options,
  status: "queued",
  message: null,
  planned: false,
  totalCount: 0,
  updatedCount: 0,
  skippedCount: 0,
  failedCount: 0,
  createdAt: new Date(),
  startedAt: null,
  finishedAt: null
})

const DEFAULT_OPTIONS: SyncJobOptions = { includeMain: false, leadOnly: false, resetSessions: false, rotateTokens: false, forceBootstrap: false, overwrite: false, boardId: null }

/**
 * A job an earlier run planned and left running on the fake fleet's gateway (a crash or a
 * takeover), to be resumed: `totalCount` agents, `updatedCount` of them done, default options.
 */
export const runningJob = (id: string, totalCount: number, updatedCount = 0): SyncJobRow => ({
  ...queuedJob({ id, gatewayId: GATEWAY_ID, options: DEFAULT_OPTIONS }),
  status: "running",
  planned: true,
  totalCount,
  updatedCount,
  startedAt: new Date()
})

/** The job's row of `agent`, pending with nothing sent, as planned. */
export const pendingRow = (jobId: string, agent: FleetAgent, position: number) => ({
  jobId,
  agentId: agent.id,
  position,
  agentName: agent.name,
  boardId: agent.boardId,
  role: agent.role,
  status: "pending" as const,
  message: null,
  tokenSource: null,
  sentGeneration: null as number | null,
  attempts: 0,
  updatedAt: new Date()
})

/**
 * `SyncJobRepo` in memory, with the live repository's rules: one active job per gateway, a
 * result recorded only while the agent is pending, counts kept with the results. Selection
 * reads `candidates` (e.g. a fake fleet's agents).
 */
export const makeMemorySyncJobRepo = (candidates: () => ReadonlyArray<SyncCandidate>) => {
  const jobs = new Map<string, SyncJobRow>()
  const agents = new Map<string, Array<SyncAgentRow>>()
  const sent: Array<{ agentId: string; generation: number; attempts: number }> = []
  /** Reads of the unfinished jobs so far. */
  const reads = { unfinished: 0 }
  /** While true, `unfinished` fails as the database would when away. */
  const failing = { unfinished: false }
  const patch = (id: string, changes: Partial<SyncJobRow>) => {
    const job = jobs.get(id)
    if (job !== undefined) jobs.set(id, { ...job, ...changes })
  }
  const service = SyncJobRepo.of({
    insert: ({ id, gatewayId, options }) =>
      Effect.gen(function* () {
        if ([...jobs.values()].some((job) => job.gatewayId === gatewayId && (job.status === "queued" || job.status === "running"))) {
          return yield* Effect.dieMessage("unique violation: the caller checks `active` first in these tests")
        }
        const job = queuedJob({ id, gatewayId, options })
        jobs.set(id, job)
        return job
      }),
    get: (id) => Effect.sync(() => Option.fromNullable(jobs.get(id))),
    active: (gatewayId) =>
      Effect.sync(() => Option.fromNullable([...jobs.values()].find((job) => job.gatewayId === gatewayId && (job.status === "queued" || job.status === "running")))),
    recent: (limit) => Effect.sync(() => [...jobs.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(0, limit)),
    unfinished: Effect.suspend(() =>
      failing.unfinished
        ? Effect.fail(new SqlError({ cause: new Error("connection refused"), message: "the database is away" }))
        : Effect.sync(() => (reads.unfinished++, [...jobs.values()].filter((job) => job.status === "queued" || job.status === "running")))
    ),
    candidates: () => Effect.sync(candidates),
    markRunning: (jobId) => Effect.sync(() => patch(jobId, { status: "running", startedAt: jobs.get(jobId)?.startedAt ?? new Date() })),
    plan: (jobId, planned) =>
      Effect.sync(() => {
        agents.set(
          jobId,
          planned.map((row) => ({ ...row, jobId, tokenSource: null, attempts: 0, updatedAt: new Date() }))
        )
        patch(jobId, { planned: true, totalCount: planned.length, skippedCount: planned.filter((row) => row.status === "skipped").length })
      }),
    agents: (jobId) => Effect.sync(() => [...(agents.get(jobId) ?? [])]),
    markSent: (jobId, agentId, generation, attempts) =>
      Effect.sync(() => {
        sent.push({ agentId, generation, attempts })
        agents.set(
          jobId,
          (agents.get(jobId) ?? []).map((row) => (row.agentId === agentId ? { ...row, sentGeneration: generation, attempts } : row))
        )
      }),
    record: (jobId, agentId, result) =>
      Effect.sync(() => {
        const rows = agents.get(jobId) ?? []
        const row = rows.find((candidate) => candidate.agentId === agentId)
        if (row === undefined || row.status !== "pending") return false
        agents.set(jobId, rows.map((candidate) => (candidate === row ? { ...row, ...result, updatedAt: new Date() } : candidate)))
        const job = jobs.get(jobId)!
        patch(jobId, {
          updatedCount: job.updatedCount + (result.status === "updated" ? 1 : 0),
          skippedCount: job.skippedCount + (result.status === "skipped" ? 1 : 0),
          failedCount: job.failedCount + (result.status === "error" ? 1 : 0)
        })
        return true
      }),
    finish: (jobId, status, message) => Effect.sync(() => patch(jobId, { status, message, finishedAt: new Date() }))
  })
  return {
    jobs,
    agents,
    reads,
    failing,
    /** Every `markSent`, in order. */
    sent,
    /** Stores a job and its rows as a crashed run would have left them. */
    seed: (job: SyncJobRow, rows: ReadonlyArray<SyncAgentRow>) => {
      jobs.set(job.id, job)
      agents.set(job.id, [...rows])
    },
    layer: Layer.succeed(SyncJobRepo, service)
  }
}
