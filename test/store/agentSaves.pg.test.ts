import { randomBytes, randomUUID } from "node:crypto"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { projectSnapshot, type AgentProjection } from "../../src/agents/agentProjection.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { AgentRepo, AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { saveRow } from "../../src/store/saveRow.ts"
import { makeHarness, policy } from "../machines/agentHarness.ts"
import { createTestDatabase } from "../support/database.ts"

/** The read-model columns of a row, as stored. */
const READ_MODEL = `role, board_id, gateway_agent_id, session_key, name, status, state_path, last_seen_at, last_error, offline_reason, token_hash,
  heartbeat_config, identity_profile, identity_template, soul_template, liveness, snapshot, version`

/** An agent's actor after its first check-in (and, with `offline`, after its silence limit): its persisted snapshot and its projection. */
const agentSnapshot = (offline = false) => {
  // Its own token hash: the column is unique.
  const h = makeHarness({ applyOutput: { tokenHash: randomBytes(32).toString("hex") }, input: { boardId: null, spec: { name: "Ada", heartbeat: { every: "10m", target: "none" }, identityProfile: { emoji: "🦊" }, identityTemplate: "I am {{ name }}", soulTemplate: null } } })
  h.advance(20)
  h.send({ type: "agent.heartbeat", at: h.now() })
  if (offline) h.advance(policy.offlineAfterMs)
  return { snapshot: h.actor.getPersistedSnapshot(), projection: projectSnapshot(h.actor.getSnapshot()) }
}

describe("agent snapshot saves (docs/architecture.md §6.5)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let runtime: ManagedRuntime.ManagedRuntime<AgentRepo, unknown>
  let client: pg.Client

  beforeAll(async () => {
    db = await createTestDatabase()
    const layer = AgentRepoLive.pipe(Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)))
    runtime = ManagedRuntime.make(layer.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
    await runtime.runPromise(Effect.void)
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
  })

  afterAll(async () => {
    await client.end()
    await runtime.dispose()
    await db.drop()
  })

  /** A stored agent at version 0, its read-model columns all different from any save's, alone on its gateway (names are unique per gateway). */
  const agent = async () => {
    const [id, gatewayId] = [randomUUID(), randomUUID()]
    await client.query("insert into gateways (id, name, url, workspace_root) values ($1, $2, 'ws://127.0.0.1:1', '/tmp')", [gatewayId, `gw-${gatewayId}`])
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'lead', $4, $5, 'provisioning', 'provisioning.applying', '{"every":"1h","target":"none"}', '{}', '1')`,
      [id, gatewayId, `old-${id}`, `old-${id}`, `agent:old-${id}:main`]
    )
    return id
  }

  const save = (saves: ReadonlyArray<{ id: string; projection: AgentProjection; snapshot: unknown; version: number }>) =>
    runtime.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.saveMany(saves)))

  const stored = async (id: string) => (await client.query(`select ${READ_MODEL} from agents where id = $1`, [id])).rows[0]

  it("a save whose read-model columns are its snapshot's own sends them once, in the snapshot, and stores the row a full save stores", async () => {
    for (const offline of [false, true]) {
      const { snapshot, projection } = agentSnapshot(offline)
      const id = await agent()
      // The projection of this very snapshot: the row carries the snapshot and the columns not in it.
      const row = saveRow({ id, projection, snapshot, version: 1 })
      expect(row).toMatchObject({ derived: true, silence_limit_ms: projection.liveness?.silenceLimitMs })
      expect(Object.keys(row)).not.toContain("name")
      expect(Object.keys(row)).not.toContain("liveness")
      // Equal values in copies of the snapshot's objects: a full row.
      const copied = { ...projection, heartbeatConfig: { ...projection.heartbeatConfig } }
      expect(saveRow({ id, projection: copied, snapshot, version: 2 })).toMatchObject({ derived: false, name: "Ada" })
      // Derived over a row whose every column differs, then full over it: the same row.
      await save([{ id, projection, snapshot, version: 1 }])
      const a = await stored(id)
      await save([{ id, projection: copied, snapshot, version: 2 }])
      expect({ ...a, version: "2" }).toEqual(await stored(id))
      expect(a).toMatchObject({
        role: "worker",
        board_id: null,
        name: "Ada",
        status: offline ? "offline" : "online",
        offline_reason: projection.offlineReason,
        token_hash: projection.tokenHash,
        heartbeat_config: projection.heartbeatConfig,
        identity_profile: { emoji: "🦊" },
        identity_template: "I am {{ name }}",
        soul_template: null,
        last_error: null,
        liveness: JSON.parse(JSON.stringify(projection.liveness)),
        last_seen_at: projection.lastSeenAt
      })
      expect(offline ? a.offline_reason : "online").not.toBeNull()
    }
  })

  it("a projection that differs from its snapshot stores the projection (a full row)", async () => {
    const { snapshot, projection } = agentSnapshot()
    const id = await agent()
    const renamed = { ...projection, name: "Renamed", lastError: { tag: "GatewayRpcError", message: "m", transient: false, step: "apply" as const, at: 1 } }
    expect(saveRow({ id, projection: renamed, snapshot, version: 1 })).toMatchObject({ derived: false })
    await save([{ id, projection: renamed, snapshot, version: 1 }])
    expect(await stored(id)).toMatchObject({ name: "Renamed", last_error: renamed.lastError, role: "worker" })
  })

  it("agents pages keep room for a saved row's next version, so a heartbeat's update stays on its page (HOT, no index written)", async () => {
    const { rows } = await client.query<{ reloptions: string[] | null }>("select reloptions from pg_class where oid = 'agents'::regclass")
    expect(rows[0]?.reloptions).toContain("fillfactor=50")
  })
})
