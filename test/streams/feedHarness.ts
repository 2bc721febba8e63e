import { randomUUID } from "node:crypto"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GroupCommitLive } from "../../src/snapshots/GroupCommit.ts"
import { SnapshotWriter } from "../../src/snapshots/SnapshotWriter.ts"
import { ActivityRepoLive } from "../../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { TransitionRepoLive } from "../../src/store/TransitionRepo.ts"
import type { AgentChangeFeedLive } from "../../src/streams/AgentChangeFeed.ts"
import { LISTENER_APPLICATION } from "../../src/streams/pgListener.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"
import { pgConnectionGate, type PgConnectionGate } from "../support/pgConnectionGate.ts"

const layerWith = (feed: typeof AgentChangeFeedLive) =>
  Layer.mergeAll(feed, GroupCommitLive).pipe(
    Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)),
    Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive))
  )

/**
 * A change feed (`feed`) with group commit on a fresh database holding one gateway, started in the
 * suite's `beforeAll` and stopped in its `afterAll`; `agent()` stores an agent and answers its id
 * and `step(n)`, which saves a transition `step.<n>` and resolves once it is saved. With
 * `gateListener`, the service reaches the database through `h.gate`, which can hold back the
 * feed's listener connections (`pgConnectionGate`).
 */
export const feedHarness = (feed: typeof AgentChangeFeedLive, options: { readonly gateListener?: boolean } = {}) => {
  const layer = layerWith(feed)
  const h = {} as {
    db: Awaited<ReturnType<typeof createTestDatabase>>
    runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>
    client: pg.Client
    gatewayId: string
    gate: PgConnectionGate | undefined
  }

  beforeAll(async () => {
    h.db = await createTestDatabase()
    h.gate = options.gateListener === true ? await pgConnectionGate(h.db.url, LISTENER_APPLICATION) : undefined
    const databaseUrl = h.gate?.url ?? h.db.url
    h.runtime = ManagedRuntime.make(layer.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(databaseUrl)) }))))
    await h.runtime.runPromise(Effect.void)
    h.client = new pg.Client({ connectionString: h.db.url })
    await h.client.connect()
    h.gatewayId = randomUUID()
    await h.client.query("insert into gateways (id, name, url, workspace_root) values ($1, 'gw', 'ws://127.0.0.1:1', '/tmp')", [h.gatewayId])
  })

  afterAll(async () => {
    await h.client?.end()
    await h.runtime?.dispose()
    await h.gate?.stop()
    await h.db?.drop()
  })

  const agent = async () => {
    const id = randomUUID()
    await h.client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, h.gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void h.runtime.runFork(effect))
    const projection = agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath: "online", name: `agent-${id}` })
    const step = (n: number) =>
      h.runtime.runPromise(
        writer.awaitPersisted(writer.offer({ n }, projection, [], { gatewayId: h.gatewayId, boardId: null, fromState: "online", toState: "online.busy", eventType: `step.${n}`, errorTag: null, at: new Date() }))
      )
    return { id, step }
  }

  return { h, agent }
}
