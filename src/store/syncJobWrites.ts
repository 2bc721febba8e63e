import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { batchedStatements } from "./batchedStatements.ts"

/** An agent's result as `SyncJobRepo` records it (its `Result`). */
interface Result {
  readonly status: string
  readonly message: string | null
  readonly tokenSource: string | null
}

/**
 * `SyncJobRepo.markSent` and `record` (docs/architecture.md §9.2), each through
 * `batchedStatements`: calls that arrive while one is being written share the next statement
 * (one per job), and answer as one statement after the other would.
 */
export const syncJobWrites = (sql: SqlClient.SqlClient) => {
  /** A batch's calls of each job, in agent id order (two statements lock shared rows in one order). */
  const byJob = <I extends { readonly jobId: string; readonly agentId: string }>(inputs: ReadonlyArray<I>) => {
    const jobs = new Map<string, Array<I>>()
    for (const input of inputs) {
      const calls = jobs.get(input.jobId)
      if (calls === undefined) jobs.set(input.jobId, [input])
      else calls.push(input)
    }
    return [...jobs].map(([jobId, calls]) => [jobId, calls.toSorted((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))] as const)
  }
  // The newest call per agent wins, as it would one statement after the other.
  const markSent = batchedStatements((inputs: ReadonlyArray<{ jobId: string; agentId: string; generation: number; attempts: number }>) =>
    Effect.as(
      Effect.forEach(byJob(inputs), ([jobId, calls]) => {
        const rows = [...new Map(calls.map((call) => [call.agentId, { agent_id: call.agentId, generation: call.generation, attempts: call.attempts }])).values()]
        return sql`update sync_job_agents s set sent_generation = v.generation, attempts = v.attempts, updated_at = now()
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(agent_id uuid, generation integer, attempts integer)
          where s.job_id = ${jobId} and s.agent_id = v.agent_id`
      }, { discard: true }),
      inputs.map(() => undefined)
    )
  )
  // One statement per job: the results and the job's counts never disagree, and a result is
  // counted once (an agent's first call in the batch records it; a later one finds it recorded).
  const record = batchedStatements((inputs: ReadonlyArray<{ jobId: string; agentId: string; result: Result }>) =>
    Effect.map(
      Effect.forEach(byJob(inputs), ([jobId, calls]) => {
        const firsts = new Map<string, { jobId: string; agentId: string; result: Result }>()
        for (const call of calls) if (!firsts.has(call.agentId)) firsts.set(call.agentId, call)
        const rows = [...firsts.values()].map(({ agentId, result }) => ({ agent_id: agentId, status: result.status, message: result.message, token_source: result.tokenSource }))
        return sql<{ id: string }>`
          with recorded as (
            update sync_job_agents s set status = v.status, message = v.message, token_source = v.token_source, updated_at = now()
            from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(agent_id uuid, status text, message text, token_source text)
            where s.job_id = ${jobId} and s.agent_id = v.agent_id and s.status = 'pending'
            returning s.agent_id, s.status
          ), counted as (
            update sync_jobs set
              updated_count = updated_count + (select count(*) from recorded where status = 'updated'),
              skipped_count = skipped_count + (select count(*) from recorded where status = 'skipped'),
              failed_count = failed_count + (select count(*) from recorded where status = 'error')
            where id = ${jobId}
          )
          select agent_id::text as id from recorded`.pipe(
          Effect.map((recorded) => {
            const ids = new Set(recorded.map((row) => row.id))
            return calls.map((call) => [call, firsts.get(call.agentId) === call && ids.has(call.agentId)] as const)
          })
        )
      }),
      (perJob) => {
        const answers = new Map(perJob.flat())
        return inputs.map((input) => answers.get(input)!)
      }
    )
  )
  return { markSent, record }
}
