import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit } from "effect"
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
 * (one per job), and answer as one statement after the other would. Each call is answered by its
 * own job's statement: another job's failure is not its failure (that job's write may stand).
 */
/** Each input's own answer, in the inputs' order, from the answers of every job's statement. */
const answerEach = <I, O>(inputs: ReadonlyArray<I>, perJob: ReadonlyArray<ReadonlyArray<readonly [I, Exit.Exit<O, SqlError>]>>) => {
  const answers = new Map(perJob.flat())
  return inputs.map((input) => answers.get(input)!)
}

export const syncJobWrites = (sql: SqlClient.SqlClient) => {
  /** A batch's calls of each job, in agent id order (a stable input; the plan decides the order rows are locked in). */
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
  const markSentBatch = batchedStatements((inputs: ReadonlyArray<{ jobId: string; agentId: string; generation: number; attempts: number }>) =>
    Effect.map(
      Effect.forEach(byJob(inputs), ([jobId, calls]) => {
        const rows = [...new Map(calls.map((call) => [call.agentId, { agent_id: call.agentId, generation: call.generation, attempts: call.attempts }])).values()]
        return Effect.exit(sql`update sync_job_agents s set sent_generation = v.generation, attempts = v.attempts, updated_at = now()
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(agent_id uuid, generation integer, attempts integer)
          where s.job_id = ${jobId} and s.agent_id = v.agent_id`).pipe(Effect.map((exit) => calls.map((call) => [call, Exit.asVoid(exit)] as const)))
      }),
      (perJob) => answerEach(inputs, perJob)
    )
  )
  // One statement per job: the results and the job's counts never disagree, and a result is
  // counted once (an agent's first call in the batch records it; a later one finds it recorded).
  const recordBatch = batchedStatements((inputs: ReadonlyArray<{ jobId: string; agentId: string; result: Result }>) =>
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
          Effect.exit,
          Effect.map((exit) => {
            if (Exit.isFailure(exit)) return calls.map((call) => [call, Exit.failCause(exit.cause)] as const)
            const ids = new Set(exit.value.map((row) => row.id))
            return calls.map((call) => [call, Exit.succeed(firsts.get(call.agentId) === call && ids.has(call.agentId))] as const)
          })
        )
      }),
      (perJob) => answerEach(inputs, perJob)
    )
  )
  return {
    markSent: (input: Parameters<typeof markSentBatch>[0]) => Effect.flatten(markSentBatch(input)),
    record: (input: Parameters<typeof recordBatch>[0]) => Effect.flatten(recordBatch(input))
  }
}
