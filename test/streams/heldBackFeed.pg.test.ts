import { randomUUID } from "node:crypto"
import { Chunk, Duration, Effect, Fiber, Layer, ManagedRuntime, Option, Redacted, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GroupCommitLive } from "../../src/snapshots/GroupCommit.ts"
import { SnapshotWriter } from "../../src/snapshots/SnapshotWriter.ts"
import { ActivityRepoLive } from "../../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { TransitionRepoLive } from "../../src/store/TransitionRepo.ts"
import { AgentChangeFeed, makeAgentChangeFeedLive, STREAM_READER_APPLICATION } from "../../src/streams/AgentChangeFeed.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"

/**
 * A change held back by an older open transaction (docs/architecture.md §8.1) is read again at
 * the next notification, not only when the held-back delay runs out. The delay here is an hour,
 * so only the notification can deliver it within the test's time.
 */
const layer = Layer.mergeAll(makeAgentChangeFeedLive({ heldBackDelay: () => Duration.hours(1) }), GroupCommitLive).pipe(
  Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)),
  Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive))
)

describe("the change feed after a held-back read (docs/architecture.md §8.1)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>
  let client: pg.Client
  let gatewayId: string

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
    await client?.end()
    await runtime?.dispose()
    await db?.drop()
  })

  /** A stored agent; `step(n)` saves a transition `step.<n>` and resolves once it is saved. */
  const agent = async () => {
    const id = randomUUID()
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void runtime.runFork(effect))
    const projection = agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath: "online", name: `agent-${id}` })
    return (n: number) =>
      runtime.runPromise(writer.awaitPersisted(writer.offer({ n }, projection, [], { gatewayId, boardId: null, fromState: "online", toState: "online.busy", eventType: `step.${n}`, errorTag: null, at: new Date() })))
  }

  it("a change held back by an open transaction comes at the next notification once that transaction ended, in cursor order", async () => {
    const step = await agent()
    const received = runtime.runFork(Effect.flatMap(AgentChangeFeed, (feed) => Stream.runCollect(Stream.take(feed.changes({}, undefined), 2))))
    while ((await runtime.runPromise(Effect.flatMap(AgentChangeFeed, (feed) => feed.subscribers))) < 1) await new Promise((resolve) => setTimeout(resolve, 10))
    // An older transaction of this database with an id: it holds the frontier below step 1.
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    try {
      await holder.query("begin")
      await holder.query("select pg_current_xact_id()")
      // Committed and notified, but above the frontier: the feed's read of it is held back.
      const { rows } = await client.query<{ at: Date }>("select clock_timestamp() as at")
      await step(1)
      // The reader has read since (its statement began after step 1 was under way, and ended).
      await expect
        .poll(async () => (await client.query("select 1 from pg_stat_activity where application_name = $1 and datname = current_database() and state = 'idle' and query_start > $2", [STREAM_READER_APPLICATION, rows[0]!.at])).rowCount)
        .toBeGreaterThan(0)
      await holder.query("commit")
    } finally {
      await holder.end()
    }
    // The holder ended without a notification; the next commit's notification brings both.
    await step(2)
    const changes = Chunk.toReadonlyArray(await runtime.runPromise(Fiber.join(received)))
    expect(changes.map((change) => change.transition.eventType)).toEqual(["step.1", "step.2"])
    expect(changes[0]!.cursor).toBeLessThan(changes[1]!.cursor)
  })
})
