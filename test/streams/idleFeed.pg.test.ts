import { randomUUID } from "node:crypto"
import { Chunk, Effect, Fiber, Layer, ManagedRuntime, Option, Redacted, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GroupCommitLive } from "../../src/snapshots/GroupCommit.ts"
import { SnapshotWriter } from "../../src/snapshots/SnapshotWriter.ts"
import { ActivityRepoLive } from "../../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { TransitionRepoLive } from "../../src/store/TransitionRepo.ts"
import { AgentChangeFeed, AgentChangeFeedLive, STREAM_READER_APPLICATION } from "../../src/streams/AgentChangeFeed.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"

const layer = Layer.mergeAll(AgentChangeFeedLive, GroupCommitLive).pipe(
  Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)),
  Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive))
)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("the change feed with nobody listening (docs/architecture.md §8.1)", () => {
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

  /** A stored agent and its writer; `step(n)` saves a transition `step.<n>` and resolves once it is saved. */
  const agent = async () => {
    const id = randomUUID()
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void runtime.runFork(effect))
    const projection = agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath: "online", name: `agent-${id}` })
    const step = (n: number) =>
      runtime.runPromise(writer.awaitPersisted(writer.offer({ n }, projection, [], { gatewayId, boardId: null, fromState: "online", toState: "online.busy", eventType: `step.${n}`, errorTag: null, at: new Date() })))
    return { id, step }
  }

  /** The statements the feed's reader has sent so far: the latest start among its connections (and how many there are). */
  const readerQueries = async () =>
    (
      await client.query<{ connections: string; latest: Date | null }>(
        "select count(*) as connections, max(query_start) as latest from pg_stat_activity where application_name = $1 and datname = current_database()",
        [STREAM_READER_APPLICATION]
      )
    ).rows[0]!

  it("a commit costs the feed no statement while nobody listens; the first client to join gets what commits after it joined, nothing from before", async () => {
    const { step } = await agent()
    const before = await readerQueries()
    expect(Number(before.connections)).toBeGreaterThan(0)
    for (let n = 1; n <= 3; n++) await step(n)
    await sleep(300)
    expect(await readerQueries()).toEqual(before)

    const received = runtime.runFork(Effect.flatMap(AgentChangeFeed, (feed) => Stream.runCollect(Stream.take(feed.changes({}, undefined), 1))))
    while ((await runtime.runPromise(Effect.flatMap(AgentChangeFeed, (feed) => feed.subscribers))) < 1) await sleep(10)
    await step(4)
    const changes = Chunk.toReadonlyArray(await runtime.runPromise(Fiber.join(received)))
    expect(changes.map((change) => change.transition.eventType)).toEqual(["step.4"])
  })
})
