import { SqlClient } from "@effect/sql"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { SqlLive } from "../../src/database/Database.ts"
import { WorkspaceHashes, WorkspaceHashesLive } from "../../src/store/WorkspaceHashes.ts"
import { freshOnlineFleet } from "../agents/onlineFleet.ts"
import { PLAN_TEST_POLICY } from "../support/queryPlans.ts"

/**
 * `WorkspaceHashes` on Postgres (migration 0017; docs/operations.md §8 "Workspace drift"): what
 * was written is what a check compares with, a rewrite clears drift, and a check that a write
 * overtook is not saved.
 */
const withHashes = async (
  body: (run: <A, E>(effect: Effect.Effect<A, E, WorkspaceHashes | SqlClient.SqlClient>) => Promise<A>, agentId: string, gatewayId: string) => Promise<void>,
  agents = 1
) => {
  const db = await freshOnlineFleet(agents, PLAN_TEST_POLICY)
  const runtime = ManagedRuntime.make(
    WorkspaceHashesLive.pipe(Layer.provideMerge(SqlLive), Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) })))
  )
  try {
    await body((effect) => runtime.runPromise(effect), db.firstId, db.gatewayId)
  } finally {
    await runtime.dispose()
    await db.drop()
  }
}

const hashes = WorkspaceHashes

describe("WorkspaceHashes", () => {
  it("lists what was last written per agent, and a rewrite clears the file from the drift", () =>
    withHashes(async (run, agentId, gatewayId) => {
      await run(Effect.flatMap(hashes, (repo) => repo.recordWritten(agentId, [{ name: "AGENTS.md", sha256: "a".repeat(64) }, { name: "SOUL.md", sha256: "b".repeat(64) }])))
      await run(Effect.flatMap(hashes, (repo) => repo.recordWritten(agentId, [{ name: "SOUL.md", sha256: "c".repeat(64) }])))
      const [managed] = await run(Effect.flatMap(hashes, (repo) => repo.managedOf(gatewayId)))
      expect(managed?.files).toEqual([
        { name: "AGENTS.md", sha256: "a".repeat(64) },
        { name: "SOUL.md", sha256: "c".repeat(64) }
      ])

      const saved = await run(Effect.flatMap(hashes, (repo) => repo.saveCheck(agentId, { checkedAt: new Date(), drifted: ["AGENTS.md", "SOUL.md"] }, managed!.writtenUpTo)))
      expect(saved).toBe(true)
      await run(Effect.flatMap(hashes, (repo) => repo.recordWritten(agentId, [{ name: "SOUL.md", sha256: "d".repeat(64) }])))
      const checks = await run(Effect.flatMap(hashes, (repo) => repo.checksOf([agentId])))
      expect(checks.get(agentId)?.drifted).toEqual(["AGENTS.md"])
    }))

  it("does not save a check that a later write overtook", () =>
    withHashes(async (run, agentId, gatewayId) => {
      await run(Effect.flatMap(hashes, (repo) => repo.recordWritten(agentId, [{ name: "SOUL.md", sha256: "a".repeat(64) }])))
      const [basis] = await run(Effect.flatMap(hashes, (repo) => repo.managedOf(gatewayId)))
      // A later write, at a later database time.
      await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select pg_sleep(0.01)`))
      await run(Effect.flatMap(hashes, (repo) => repo.recordWritten(agentId, [{ name: "SOUL.md", sha256: "b".repeat(64) }])))
      const saved = await run(Effect.flatMap(hashes, (repo) => repo.saveCheck(agentId, { checkedAt: new Date(), drifted: ["SOUL.md"] }, basis!.writtenUpTo)))
      expect(saved).toBe(false)
      expect((await run(Effect.flatMap(hashes, (repo) => repo.checksOf([agentId])))).size).toBe(0)
    }))

  it("records made at once share statements: each clears only its own agent's drift, and one that fails (its agent gone) fails alone", () =>
    withHashes(async (run) => {
      const ids = (await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ id: string }>`select id from agents order by id`))).map((row) => row.id)
      for (const id of ids) {
        await run(Effect.flatMap(hashes, (repo) => repo.saveCheck(id, { checkedAt: new Date(), drifted: ["AGENTS.md", "SOUL.md"] }, new Date(Date.now() + 60_000))))
      }
      const [first, second, third] = ids as [string, string, string]
      const gone = "00000000-0000-4000-8000-000000000000"
      // The first goes alone; the three that ask while it is written share the next statement, which the unknown agent fails.
      const outcomes = await run(
        Effect.all(
          [
            Effect.flatMap(hashes, (repo) => repo.recordWritten(first, [{ name: "SOUL.md", sha256: "a".repeat(64) }])),
            Effect.flatMap(hashes, (repo) => repo.recordWritten(second, [{ name: "AGENTS.md", sha256: "b".repeat(64) }])),
            Effect.flatMap(hashes, (repo) => repo.recordWritten(gone, [{ name: "AGENTS.md", sha256: "c".repeat(64) }])),
            Effect.flatMap(hashes, (repo) => repo.recordWritten(third, [{ name: "AGENTS.md", sha256: "d".repeat(64) }, { name: "SOUL.md", sha256: "e".repeat(64) }]))
          ].map((record) => Effect.either(record)),
          { concurrency: "unbounded" }
        )
      )
      expect(outcomes.map((outcome) => outcome._tag)).toEqual(["Right", "Right", "Left", "Right"])
      const checks = await run(Effect.flatMap(hashes, (repo) => repo.checksOf(ids)))
      expect([first, second, third].map((id) => checks.get(id)?.drifted)).toEqual([["AGENTS.md"], ["SOUL.md"], []])
    }, 3))
})
