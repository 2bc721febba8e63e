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
})
