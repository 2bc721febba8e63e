import { randomUUID } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { SqlLive } from "../../src/database/Database.ts"
import { SyncJobRepo, SyncJobRepoLive, type PlannedAgent, type SyncAgentResult } from "../../src/store/SyncJobRepo.ts"
import { freshOnlineFleet } from "../agents/onlineFleet.ts"
import { PLAN_TEST_POLICY } from "../support/queryPlans.ts"

/**
 * `SyncJobRepo` on Postgres (docs/architecture.md §9.2): `markSent` and `record` calls that arrive
 * while one is being written share the next statement, and answer as one statement after the
 * other would: a result is recorded and counted once, the newest sent generation stands.
 */
const withJob = async (agents: number, body: (run: <A, E>(effect: Effect.Effect<A, E, SyncJobRepo | SqlClient.SqlClient>) => Promise<A>, jobId: string, agentIds: ReadonlyArray<string>) => Promise<void>) => {
  const db = await freshOnlineFleet(1, PLAN_TEST_POLICY)
  const runtime = ManagedRuntime.make(SyncJobRepoLive.pipe(Layer.provideMerge(SqlLive), Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
  try {
    const jobId = randomUUID()
    const agentIds = Array.from({ length: agents }, () => randomUUID())
    const planned = agentIds.map(
      (agentId, position): PlannedAgent => ({ agentId, position, agentName: `a${position}`, boardId: null, role: "worker", status: "pending", message: null, sentGeneration: null })
    )
    await runtime.runPromise(
      Effect.flatMap(SyncJobRepo, (repo) =>
        Effect.zipRight(
          repo.insert({ id: jobId, gatewayId: db.gatewayId, options: { includeMain: false, leadOnly: false, resetSessions: false, rotateTokens: false, forceBootstrap: false, overwrite: false, boardId: null } }),
          repo.plan(jobId, planned)
        )
      )
    )
    await body((effect) => runtime.runPromise(effect), jobId, agentIds)
  } finally {
    await runtime.dispose()
    await db.drop()
  }
}

/** The distinct `updated_at` of the job's agents: one per statement that wrote them. */
const statementsThatWrote = (jobId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: string }>`select count(distinct updated_at) as n from sync_job_agents where job_id = ${jobId}`).pipe(
    Effect.map((rows) => Number(rows[0]!.n))
  )

const updated: SyncAgentResult = { status: "updated", message: null, tokenSource: "recovered" }
const failed: SyncAgentResult = { status: "error", message: "GatewayTimeoutError: no answer", tokenSource: null }

describe("SyncJobRepo", () => {
  it("records results that arrive together in one statement after the first, each once, with the job's counts", () =>
    withJob(5, async (run, jobId, [a, b, c, d, e]) => {
      const answers = await run(
        Effect.flatMap(SyncJobRepo, (repo) =>
          Effect.all(
            [repo.record(jobId, a!, updated), repo.record(jobId, b!, updated), repo.record(jobId, c!, failed), repo.record(jobId, b!, failed), repo.record(jobId, d!, updated)],
            { concurrency: "unbounded" }
          )
        )
      )
      // b's second result finds it recorded.
      expect(answers).toEqual([true, true, true, false, true])
      const job = await run(Effect.flatMap(SyncJobRepo, (repo) => repo.get(jobId)))
      expect(Option.map(job, ({ updatedCount, failedCount, skippedCount }) => ({ updatedCount, failedCount, skippedCount }))).toEqual(
        Option.some({ updatedCount: 3, failedCount: 1, skippedCount: 0 })
      )
      const rows = await run(Effect.flatMap(SyncJobRepo, (repo) => repo.agents(jobId)))
      expect(rows.map((row) => [row.status, row.tokenSource])).toEqual([
        ["updated", "recovered"],
        ["updated", "recovered"],
        ["error", null],
        ["updated", "recovered"],
        ["pending", null]
      ])
      // a's statement, then one for the four that arrived while it ran (e untouched, from the plan).
      expect(await run(statementsThatWrote(jobId))).toBe(3)
      expect(await run(Effect.flatMap(SyncJobRepo, (repo) => repo.record(jobId, a!, failed)))).toBe(false)
    }))

  it("answers each call from its own job's statement: another job's failing statement in the same batch is not its failure", () =>
    withJob(3, async (run, jobId, [a, b]) => {
      // A NUL in a message is refused by jsonb: that job's statement fails.
      const refused: SyncAgentResult = { status: "error", message: "bad \u0000 text", tokenSource: null }
      const answers = await run(
        Effect.flatMap(SyncJobRepo, (repo) =>
          Effect.all([repo.record(jobId, a!, updated), Effect.either(repo.record(randomUUID(), randomUUID(), refused)), repo.record(jobId, b!, updated)], { concurrency: "unbounded" })
        )
      )
      expect(answers[0]).toBe(true)
      expect(answers[1]).toMatchObject({ _tag: "Left", left: { _tag: "SqlError" } })
      expect(answers[2]).toBe(true)
      const rows = await run(Effect.flatMap(SyncJobRepo, (repo) => repo.agents(jobId)))
      expect(rows.map((row) => row.status)).toEqual(["updated", "updated", "pending"])
    }))

  it("stores sent generations that arrive together in one statement after the first, the newest call per agent standing", () =>
    withJob(3, async (run, jobId, [a, b, c]) => {
      await run(
        Effect.flatMap(SyncJobRepo, (repo) =>
          Effect.all([repo.markSent(jobId, a!, 2, 1), repo.markSent(jobId, b!, 5, 1), repo.markSent(jobId, b!, 6, 2), repo.markSent(jobId, c!, 3, 1)], {
            concurrency: "unbounded"
          })
        )
      )
      const rows = await run(Effect.flatMap(SyncJobRepo, (repo) => repo.agents(jobId)))
      expect(rows.map((row) => [row.sentGeneration, row.attempts])).toEqual([
        [2, 1],
        [6, 2],
        [3, 1]
      ])
      expect(await run(statementsThatWrote(jobId))).toBe(2)
    }))
})
