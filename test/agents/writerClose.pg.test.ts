import { randomUUID } from "node:crypto"
import { Effect, Exit, Layer, Logger, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentProjection } from "../../src/agents/agentProjection.ts"
import { GroupCommitLive } from "../../src/agents/GroupCommit.ts"
import { SnapshotWriter } from "../../src/agents/SnapshotWriter.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { ActivityRepoLive } from "../../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { MigrationsLive, SqlLive } from "../../src/store/Database.ts"
import { TransitionRepoLive } from "../../src/store/TransitionRepo.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"

const projection = (id: string, overrides: Partial<AgentProjection> = {}): AgentProjection =>
  agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath: "online", name: `agent-${id}`, ...overrides })

/** A writer closed while its write is in a batch: the write is not run again after a failure (docs/architecture.md §11). */
describe("closing a writer whose write is in flight", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>
  let client: pg.Client
  let gatewayId: string
  const logged: string[] = []
  const layer = GroupCommitLive.pipe(Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)), Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)))
  const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logged.push(String(Array.isArray(message) ? message[0] : message))))

  beforeAll(async () => {
    db = await createTestDatabase()
    runtime = ManagedRuntime.make(layer.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
    await runtime.runPromise(Effect.void)
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    gatewayId = randomUUID()
    await client.query("insert into gateways (id, name, url, workspace_root) values ($1, 'gw', 'ws://127.0.0.1:1', '/tmp')", [gatewayId])
  })

  afterAll(async () => {
    await client.end()
    await runtime.dispose()
    await db.drop()
  })

  /** A stored agent at version 0 and a writer for it whose drains log into `logged`. */
  const agent = async () => {
    const id = randomUUID()
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void runtime.runFork(effect.pipe(Effect.provide(capture))), 500)
    return { id, writer }
  }
  const version = async (id: string) => Number((await client.query<{ version: string }>("select version::text from agents where id = $1", [id])).rows[0]?.version)
  const failureOf = async (effect: Effect.Effect<void, unknown, never>) => {
    const exit = await runtime.runPromiseExit(effect)
    return Exit.isFailure(exit) && exit.cause._tag === "Fail" ? (exit.cause.error as { _tag: string; reason?: string }) : undefined
  }
  const lockWaits = async () => (await client.query<{ n: number }>("select count(*)::int as n from pg_locks where not granted")).rows[0]?.n ?? 0
  const holding = async (id: string) => {
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    await holder.query("begin")
    await holder.query("select 1 from agents where id = $1 for update", [id])
    return holder
  }

  it("a write that fails after close is not retried: close returns without a retry being logged", async () => {
    const { id, writer } = await agent()
    const holder = await holding(id)
    try {
      const waited = failureOf(writer.awaitPersisted(writer.offer({ n: 1 }, projection(id), [])))
      await expect.poll(lockWaits).toBeGreaterThan(0)
      const closed = runtime.runPromise(writer.close())
      // The write in flight fails (cancelled) after the close.
      await client.query("select pg_cancel_backend(pid) from pg_locks where not granted and pid <> pg_backend_pid()")
      await closed
      expect(await waited).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
      expect(logged.filter((line) => line.includes(id))).toEqual([])
    } finally {
      await holder.query("rollback")
      await holder.end()
    }
    expect(await version(id)).toBe(0)
  })

  it("a batch that fails does not write a closed writer's write alone afterwards", async () => {
    const first = await agent()
    const closing = await agent()
    const failing = await agent()
    const other = await agent()
    const holdFirst = await holding(first.id)
    const holdClosing = await holding(closing.id)
    try {
      // The first batch waits on its row while the next two writes queue behind it.
      const firstSaved = runtime.runPromise(first.writer.awaitPersisted(first.writer.offer({ n: 1 }, projection(first.id), [])))
      await expect.poll(lockWaits).toBeGreaterThan(0)
      const closingWait = failureOf(closing.writer.awaitPersisted(closing.writer.offer({ n: 1 }, projection(closing.id), [])))
      // A name another live agent holds: this write fails, and with it the batch.
      failing.writer.offer({ n: 1 }, projection(failing.id, { name: `agent-${other.id}` }), [])
      await holdFirst.query("rollback")
      await firstSaved
      // The second batch (both writes) now waits on the closing writer's row.
      await expect.poll(lockWaits).toBeGreaterThan(0)
      const closed = runtime.runPromise(closing.writer.close())
      await holdClosing.query("rollback")
      await closed
      expect(await closingWait).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
      expect(await version(closing.id)).toBe(0)
    } finally {
      await failing.writer.close().pipe(runtime.runPromise)
      await holdFirst.end()
      await holdClosing.end()
    }
  })
})
