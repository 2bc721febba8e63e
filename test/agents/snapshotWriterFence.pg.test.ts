import { randomUUID } from "node:crypto"
import { Effect, Exit, Layer, ManagedRuntime, Option, Redacted } from "effect"
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

/** A snapshot writer meets the versions another runner wrote (docs/architecture.md §11). */
describe("snapshot writer fence", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>
  let client: pg.Client
  let gatewayId: string
  const layer = GroupCommitLive.pipe(Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)), Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)))

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

  /** A stored agent at version 0 and a writer for it; `stale` lists the agents reported stale. */
  const agent = async (stale: Array<string> = []) => {
    const id = randomUUID()
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void runtime.runFork(effect), 500, (agentId) => void stale.push(agentId))
    return { id, writer }
  }

  const transition = (n: number) => ({ gatewayId, boardId: null, fromState: "online", toState: "online.busy", eventType: `step.${n}`, errorTag: null, at: new Date() })
  const stored = async (id: string) => {
    const { rows } = await client.query<{ version: string; snapshot: unknown }>("select version::text, snapshot from agents where id = $1", [id])
    return { version: Number(rows[0]?.version), snapshot: rows[0]?.snapshot }
  }
  const count = async (table: "agent_transitions" | "activity", id: string) =>
    (await client.query<{ n: number }>(`select count(*)::int as n from ${table} where agent_id = $1`, [id])).rows[0]?.n
  const failureOf = async (effect: Effect.Effect<void, unknown, never>) => {
    const exit = await runtime.runPromiseExit(effect)
    return Exit.isFailure(exit) && exit.cause._tag === "Fail" ? (exit.cause.error as { _tag: string; reason?: string }) : undefined
  }

  it("refuses a write at a version another runner already stored: nothing of it is saved, its waiter fails and the owner is told", async () => {
    const stale: Array<string> = []
    const late = await agent(stale)
    const fresh = await agent(stale)
    // Another runner (the gateway's new owner, or a late write of the old one) stored version 1 first.
    await client.query(`update agents set version = 1, snapshot = '{"by":"other"}' where id = $1`, [late.id])
    const refused = failureOf(late.writer.awaitPersisted(late.writer.offer({ by: "us" }, projection(late.id), [{ eventType: "agent.test", message: "late", agentId: late.id }], transition(1))))
    const saved = runtime.runPromise(fresh.writer.awaitPersisted(fresh.writer.offer({ by: "us" }, projection(fresh.id), [], transition(1))))
    expect(await refused).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "stale" })
    await saved
    expect(stale).toEqual([late.id])
    expect(await stored(late.id)).toEqual({ version: 1, snapshot: { by: "other" } })
    expect(await count("agent_transitions", late.id)).toBe(0)
    expect(await count("activity", late.id)).toBe(0)
    // The other agent's write, in the same batch or not, is saved with its transition.
    expect(await stored(fresh.id)).toEqual({ version: 1, snapshot: { by: "us" } })
    expect(await count("agent_transitions", fresh.id)).toBe(1)
    // The writer has ended: a later offer is never written, its wait fails at once.
    expect(late.writer.isEnded).toBe(true)
    expect(await failureOf(late.writer.awaitPersisted(late.writer.offer({ by: "us", n: 2 }, projection(late.id), [])))).toMatchObject({ reason: "stale" })
  })

  it("a closed writer writes nothing more: a write retrying after a failure stops and its waiter fails", async () => {
    const { id, writer } = await agent()
    const other = await agent()
    // A name another live agent of the gateway holds: the write fails (unique violation) and retries.
    const failing = writer.awaitPersisted(writer.offer({ n: 1 }, projection(id, { name: `agent-${other.id}` }), [], transition(1)))
    const waited = failureOf(failing)
    await runtime.runPromise(writer.close())
    expect(await waited).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
    // The name is free again: a writer still retrying would now succeed.
    await client.query("update agents set deleted_at = now() where id = $1", [other.id])
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await stored(id)).version).toBe(0)
  })

  it("close withdraws a write still queued behind a batch in flight; closing the writer of that batch waits for its end", async () => {
    const blocker = await agent()
    const { id, writer } = await agent()
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    try {
      await holder.query("begin")
      await holder.query("select 1 from agents where id = $1 for update", [blocker.id])
      blocker.writer.offer({ n: 1 }, projection(blocker.id), [])
      await expect.poll(async () => (await client.query("select count(*)::int as n from pg_locks where not granted")).rows[0].n).toBeGreaterThan(0)
      const queued = failureOf(writer.awaitPersisted(writer.offer({ n: 1 }, projection(id), [], transition(1))))
      // The batch in flight still waits on the held row; the queued write is taken out.
      await runtime.runPromise(writer.close())
      expect(await queued).toMatchObject({ reason: "withdrawn" })
      let closed = false
      const closing = runtime.runPromise(blocker.writer.close()).then(() => void (closed = true))
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(closed).toBe(false)
      await holder.query("rollback")
      await closing
      // The write that was in flight when its writer closed committed before the close returned.
      expect((await stored(blocker.id)).version).toBe(1)
      expect((await stored(id)).version).toBe(0)
      expect(await count("agent_transitions", id)).toBe(0)
    } finally {
      await holder.end()
    }
  })
})
