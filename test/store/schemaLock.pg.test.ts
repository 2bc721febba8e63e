import { mkdtemp, rm } from "node:fs/promises"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { SCHEMA_LOCK_KEY, SqlLive, withSchemaLock } from "../../src/database/Database.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService } from "../support/inProcessService.ts"

/** Instances started together take turns on the schema (docs/operations.md §7.1). */
describe("schema lock", () => {
  it("waits behind a holder for longer than the statement timeout, then runs", async () => {
    const db = await createTestDatabase()
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    const sql = ManagedRuntime.make(SqlLive.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)), dbStatementTimeoutMs: 1_000 }))))
    try {
      // Another instance migrating: it holds the lock.
      await holder.query(`select pg_advisory_lock(${SCHEMA_LOCK_KEY})`)
      let ran = false
      const waiting = sql.runPromise(withSchemaLock(Effect.sync(() => (ran = true))))
      // Three statement timeouts pass while the lock is held: the waiter neither runs nor fails.
      let failed: unknown
      waiting.catch((error: unknown) => void (failed = error))
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect({ ran, failed }).toEqual({ ran: false, failed: undefined })
      await holder.query(`select pg_advisory_unlock(${SCHEMA_LOCK_KEY})`)
      expect(await waiting).toBe(true)
      // Released after the effect: the holder takes it again at once.
      expect((await holder.query<{ locked: boolean }>(`select pg_try_advisory_lock(${SCHEMA_LOCK_KEY}) as locked`)).rows[0]?.locked).toBe(true)
    } finally {
      await sql.dispose()
      await holder.end()
      await db.drop()
    }
  })

  it("the embedded default (no DATABASE_URL) migrates and starts under it", async () => {
    // As root the embedded cluster runs as the `postgres` user, so its data dir sits under /tmp.
    const dir = await mkdtemp("/tmp/sy-embedded-")
    const service = await startInProcessService("", { databaseUrl: Option.none(), dataDir: dir })
    try {
      await expect.poll(async () => (await fetch(`${service.url}/readyz`)).status, { timeout: 60_000, interval: 100 }).toBe(200)
    } finally {
      await service.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
