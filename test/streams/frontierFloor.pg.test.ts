import { randomUUID } from "node:crypto"
import { Effect, Fiber, Layer, ManagedRuntime, Option, Redacted, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GroupCommitLive } from "../../src/snapshots/GroupCommit.ts"
import { SnapshotWriter } from "../../src/snapshots/SnapshotWriter.ts"
import { ActivityRepoLive } from "../../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { TransitionRepoLive } from "../../src/store/TransitionRepo.ts"
import { AgentChangeFeed, AgentChangeFeedLive } from "../../src/streams/AgentChangeFeed.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"

/**
 * The feed's reads pass the notified floor (docs/architecture.md §8.1, migration 0024): the
 * frontier function with the floor is what its reader calls, counted by Postgres
 * (`track_functions`, reported when the service's connections close).
 */

const layer = Layer.mergeAll(AgentChangeFeedLive, GroupCommitLive).pipe(
  Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)),
  Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive))
)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("the change feed's frontier with the notified floor", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown> | undefined
  let client: pg.Client

  beforeAll(async () => {
    db = await createTestDatabase()
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    // Before the service connects: its sessions count their function calls.
    await client.query(`alter database ${new URL(db.url).pathname.slice(1)} set track_functions = 'pl'`)
    runtime = ManagedRuntime.make(layer.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
    await runtime.runPromise(Effect.void)
  })

  afterAll(async () => {
    await client?.end()
    await runtime?.dispose()
    await db?.drop()
  })

  it("reads each notified change through agent_changes_frontier(notified)", async () => {
    const service = runtime!
    const gatewayId = randomUUID()
    await client.query("insert into gateways (id, name, url, workspace_root) values ($1, 'gw', 'ws://127.0.0.1:1', '/tmp')", [gatewayId])
    const id = randomUUID()
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void service.runFork(effect))
    const projection = agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath: "online", name: `agent-${id}` })
    const seen: Array<string> = []
    const received = service.runFork(
      Effect.flatMap(AgentChangeFeed, (feed) => Stream.runForEach(Stream.take(feed.changes({}, undefined), 3), (change) => Effect.sync(() => void seen.push(change.transition.eventType))))
    )
    while ((await service.runPromise(Effect.flatMap(AgentChangeFeed, (feed) => feed.subscribers))) < 1) await sleep(10)
    for (let n = 1; n <= 3; n++) {
      await service.runPromise(
        writer.awaitPersisted(writer.offer({ n }, projection, [], { gatewayId, boardId: null, fromState: "online", toState: "online.busy", eventType: `step.${n}`, errorTag: null, at: new Date() }))
      )
      // Each change read before the next is written: three notified reads, none coalesced (a loaded machine would otherwise merge them).
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(n)
    }
    await service.runPromise(Fiber.join(received))
    expect(seen).toEqual(["step.1", "step.2", "step.3"])
    // Closing the service's sessions reports their counts.
    await service.dispose()
    runtime = undefined
    const callsWithFloor = async () =>
      Number(
        (
          await client.query<{ calls: string | null }>(
            "select max(calls)::text as calls from pg_stat_user_functions where funcid = 'agent_changes_frontier(bigint)'::regprocedure"
          )
        ).rows[0]!.calls ?? 0
      )
    await expect.poll(callsWithFloor, { timeout: 15_000 }).toBeGreaterThanOrEqual(3)
  })
})
