import type { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Deferred, Effect, FiberId } from "effect"
import { describe, expect, it } from "vitest"
import { workspaceFileWrites } from "../../src/store/workspaceFileWrites.ts"

const GONE = "00000000-0000-4000-8000-000000000000"

/**
 * A SQL client whose statements record the agents they write; the first waits for `gate`, so
 * the calls made meanwhile share the next. A statement naming GONE fails with `failure`.
 */
const fakeSql = (failure: SqlError) => {
  const gate = Deferred.unsafeMake<void>(FiberId.none)
  const statements: Array<ReadonlyArray<string>> = []
  const sql = ((_: TemplateStringsArray, rows: string) =>
    Effect.suspend(() => {
      const agents = [...new Set((JSON.parse(rows) as Array<{ agent_id: string }>).map((row) => row.agent_id))]
      statements.push(agents)
      const wait = statements.length === 1 ? Deferred.await(gate) : Effect.void
      return Effect.zipRight(wait, agents.includes(GONE) ? Effect.fail(failure) : Effect.succeed([]))
    })) as unknown as SqlClient.SqlClient
  return { sql, statements, open: () => Effect.runPromise(Deferred.succeed(gate, undefined)) }
}

/** A lone record, then three made while it is written (they share the next statement): each one's outcome, and the statements. */
const recordBurst = async (failure: SqlError) => {
  const { sql, statements, open } = fakeSql(failure)
  const record = workspaceFileWrites(sql)
  const file = [{ name: "SOUL.md", sha256: "a".repeat(64) }]
  const first = Effect.runPromise(Effect.either(record("11111111-0000-4000-8000-000000000000", file)))
  await new Promise((resolve) => setTimeout(resolve, 10))
  const later = ["22222222-0000-4000-8000-000000000000", GONE, "33333333-0000-4000-8000-000000000000"].map((id) =>
    Effect.runPromise(Effect.either(record(id, file)))
  )
  await open()
  const outcomes = [await first, ...(await Promise.all(later))].map((outcome) => (outcome._tag === "Left" ? outcome.left.message : "ok"))
  return { outcomes, statements: statements.length }
}

describe("workspaceFileWrites (WorkspaceHashes.recordWritten as a group commit write)", () => {
  it("a shared statement that fails because of one call's rows (its agent gone: 23503) is made again call by call: only that call fails", async () => {
    const burst = await recordBurst(new SqlError({ cause: { code: "23503" }, message: "foreign key" }))
    expect(burst).toEqual({ outcomes: ["ok", "ok", "foreign key", "ok"], statements: 2 + 3 })
  })

  it("a shared statement that fails for every call (connection lost, statement timeout, no pool connection) answers every caller at once, without a redo each", async () => {
    for (const failure of [
      new SqlError({ cause: { code: "08006" }, message: "connection lost" }),
      new SqlError({ cause: { code: "57014" }, message: "statement timeout" }),
      new SqlError({ cause: new Error("timeout exceeded when trying to connect"), message: "Failed to acquire connection" })
    ]) {
      const burst = await recordBurst(failure)
      expect(burst).toEqual({ outcomes: ["ok", failure.message, failure.message, failure.message], statements: 2 })
    }
  })
})
