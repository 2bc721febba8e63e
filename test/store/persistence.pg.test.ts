import { randomUUID } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { PgMigrator } from "@effect/sql-pg"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentProjection } from "../../src/agents/agentProjection.ts"
import { AgentSystem } from "../../src/agents/AgentSystem.ts"
import { AppConfigTest, type AppConfigShape } from "../../src/config/AppConfig.ts"
import { AgentRepo, AgentRepoLive, type NewAgent } from "../../src/store/AgentRepo.ts"
import { BoardRepo, BoardRepoLive } from "../../src/store/BoardRepo.ts"
import { migrations, MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GatewayRepo, GatewayRepoLive } from "../../src/store/GatewayRepo.ts"
import { isUniqueViolation } from "../../src/store/sqlErrors.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"

/** Where a test's data lives: config overrides that select it, and how to throw it away. */
interface Storage {
  readonly overrides: Partial<AppConfigShape>
  readonly dispose: () => Promise<void>
}

const backends: ReadonlyArray<{ readonly name: string; readonly fresh: () => Promise<Storage> }> = [
  {
    name: "the machine's Postgres",
    fresh: async () => {
      const db = await createTestDatabase()
      return { overrides: { databaseUrl: Option.some(Redacted.make(db.url)) }, dispose: db.drop }
    }
  },
  {
    // As root the cluster runs as the `postgres` user, so the data dir sits under /tmp (traversable).
    name: "the embedded default",
    fresh: async () => {
      const dir = await mkdtemp("/tmp/sy-embedded-")
      return { overrides: { databaseUrl: Option.none(), dataDir: dir }, dispose: () => rm(dir, { recursive: true, force: true }) }
    }
  }
]

/** SQL client (migrated) and repositories on `storage`, as the service builds them. */
const openStore = (storage: Storage) =>
  ManagedRuntime.make(
    Layer.mergeAll(GatewayRepoLive, BoardRepoLive, AgentRepoLive).pipe(
      Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)),
      Layer.provide(AppConfigTest(storage.overrides))
    )
  )
type Store = ReturnType<typeof openStore>

/** Runs one statement on `storage` with a short-lived client (the service must not be running on an embedded one). */
const withStore = async <A>(storage: Storage, use: (store: Store) => Promise<A>): Promise<A> => {
  const store = openStore(storage)
  try {
    return await use(store)
  } finally {
    await store.dispose()
  }
}

/** The identity columns of a stored agent, as its projection repeats them. */
const keysOf = (agent: NewAgent) => ({ role: agent.role, boardId: agent.boardId, gatewayAgentId: agent.gatewayAgentId, sessionKey: agent.sessionKey })

const projection = agentProjectionFixture

const newAgent = (ids: { gatewayId: string; boardId: string | null }, overrides: Partial<AgentProjection> = {}, snapshot: unknown = { value: "provisioning" }): NewAgent => {
  const id = randomUUID()
  return {
    id,
    gatewayId: ids.gatewayId,
    boardId: ids.boardId,
    role: "worker",
    gatewayAgentId: `mc-${id}`,
    sessionKey: `agent:mc-${id}:main`,
    projection: projection({ boardId: ids.boardId, gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, ...overrides }),
    snapshot,
    machineVersion: "1"
  }
}

const hash = () => randomUUID().replaceAll("-", "").padEnd(64, "0")

/** The SqlError `effect` fails with (anything else fails the test). */
const sqlFailureOf = async (store: Store, effect: Effect.Effect<unknown, SqlError, GatewayRepo | BoardRepo | AgentRepo | SqlClient.SqlClient>): Promise<SqlError> => {
  const exit = await store.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected the effect to fail, it succeeded")
  const failure = Option.getOrUndefined(Cause.failureOption(exit.cause))
  if (!(failure instanceof SqlError)) throw new Error(`expected a SqlError, got ${Cause.pretty(exit.cause)}`)
  return failure
}

/** A non-admin call: `token` goes in `X-Agent-Token`. */
const asAgent = async (service: InProcessService, method: string, route: string, token: string) => {
  const response = await fetch(`${service.url}${route}`, { method, headers: { "x-agent-token": token } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const readyz = async (service: InProcessService) => (await fetch(`${service.url}/readyz`)).status

describe.each(backends)("persistence on $name", (backend) => {
  let storage: Storage
  let store: Store
  let gatewayId: string
  let boardA: string
  let boardB: string
  let otherGatewayId: string
  let boardC: string
  const run = <A, E>(effect: Effect.Effect<A, E, GatewayRepo | BoardRepo | AgentRepo | SqlClient.SqlClient>) => store.runPromise(effect)

  beforeAll(async () => {
    storage = await backend.fresh()
    store = openStore(storage)
    const started = Date.now()
    await store.runPromise(Effect.void)
    console.log(`[measure] ${backend.name}: SQL client + migrations ready in ${Date.now() - started} ms`)
  })

  afterAll(async () => {
    await store?.dispose()
    await storage?.dispose()
  })

  it("migrations ran once; running them again applies nothing and changes no table", async () => {
    const tables = () =>
      run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ tableName: string }>`select table_name from information_schema.tables where table_schema = 'public' order by table_name`))
    const before = (await tables()).map((row) => row.tableName)
    expect(before).toEqual(expect.arrayContaining(["activity", "agents", "boards", "effect_sql_migrations", "gateways"]))
    const applied = await run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ migrationId: number; name: string }>`select migration_id, name from effect_sql_migrations order by migration_id`)
    )
    const known = (await Effect.runPromise(migrations)).map(([migrationId, name]) => ({ migrationId, name }))
    expect(known.length).toBeGreaterThan(0)
    expect(applied).toEqual(known)
    const again = await run(PgMigrator.run({ loader: migrations }).pipe(Effect.provide(NodeContext.layer)))
    expect(again).toEqual([])
    expect((await tables()).map((row) => row.tableName)).toEqual(before)
    expect(await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select 1 from effect_sql_migrations`))).toHaveLength(known.length)
  })

  it("GatewayRepo: insert, list, get, update and remove; the token only ever comes back Redacted from get", async () => {
    const token = `gw-secret-${randomUUID()}`
    const id = randomUUID()
    const inserted = await run(Effect.flatMap(GatewayRepo, (repo) => repo.insert({ id, name: "Local", url: "ws://127.0.0.1:1", token: Redacted.make(token), workspaceRoot: "/srv/a" })))
    expect(inserted).toMatchObject({ id, name: "Local", url: "ws://127.0.0.1:1", workspaceRoot: "/srv/a" })
    expect(inserted).not.toHaveProperty("token")
    expect(JSON.stringify(inserted)).not.toContain(token)

    const listed = await run(Effect.flatMap(GatewayRepo, (repo) => repo.list))
    expect(listed.map((row) => row.id)).toContain(id)
    for (const row of listed) expect(row).not.toHaveProperty("token")
    expect(JSON.stringify(listed)).not.toContain(token)

    const got = Option.getOrThrow(await run(Effect.flatMap(GatewayRepo, (repo) => repo.get(id))))
    expect(Redacted.isRedacted(got.token)).toBe(true)
    expect(Redacted.value(got.token)).toBe(token)
    expect(JSON.stringify(got)).not.toContain(token)
    expect(String(got.token)).not.toContain(token)

    const newToken = `gw-rotated-${randomUUID()}`
    const updated = Option.getOrThrow(await run(Effect.flatMap(GatewayRepo, (repo) => repo.update(id, { name: "Renamed", token: Redacted.make(newToken) }))))
    expect(updated).toMatchObject({ id, name: "Renamed", url: "ws://127.0.0.1:1", workspaceRoot: "/srv/a" })
    expect(updated).not.toHaveProperty("token")
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(inserted.updatedAt.getTime())
    expect(Redacted.value(Option.getOrThrow(await run(Effect.flatMap(GatewayRepo, (repo) => repo.get(id)))).token)).toBe(newToken)
    expect(Option.isNone(await run(Effect.flatMap(GatewayRepo, (repo) => repo.update(randomUUID(), { name: "Nobody" }))))).toBe(true)

    expect(await run(Effect.flatMap(GatewayRepo, (repo) => repo.remove(id)))).toBe(true)
    expect(await run(Effect.flatMap(GatewayRepo, (repo) => repo.remove(id)))).toBe(false)
    expect(Option.isNone(await run(Effect.flatMap(GatewayRepo, (repo) => repo.get(id))))).toBe(true)
  })

  it("seeds two gateways and three boards for the agent tests", async () => {
    const gateway = (name: string) =>
      run(Effect.flatMap(GatewayRepo, (repo) => repo.insert({ id: randomUUID(), name, url: "ws://127.0.0.1:1", token: Redacted.make("t"), workspaceRoot: "/srv" })))
    gatewayId = (await gateway("Primary")).id
    otherGatewayId = (await gateway("Secondary")).id
    const board = (gateway: string, name: string) => run(Effect.flatMap(BoardRepo, (repo) => repo.insert({ id: randomUUID(), gatewayId: gateway, name })))
    boardA = (await board(gatewayId, "Alpha")).id
    boardB = (await board(gatewayId, "Beta")).id
    boardC = (await board(otherGatewayId, "Gamma")).id
    expect((await run(Effect.flatMap(BoardRepo, (repo) => repo.list({ gatewayId })))).map((row) => row.name)).toEqual(["Alpha", "Beta"])
  })

  it("AgentRepo.save writes a newer version and never lets a lower (or equal) one overwrite it", async () => {
    const agent = newAgent({ gatewayId, boardId: boardA }, { name: "Versioned" })
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(agent)))
    const read = async () => Option.getOrThrow(await run(Effect.flatMap(AgentRepo, (repo) => repo.get(agent.id))))
    expect(Number((await read()).version)).toBe(0)

    await run(Effect.flatMap(AgentRepo, (repo) => repo.save(agent.id, projection({ ...keysOf(agent), name: "Versioned", statePath: "provisioning.waking" }), { step: 2 }, 2)))
    expect(await read()).toMatchObject({ version: "2", statePath: "provisioning.waking", snapshot: { step: 2 } })

    await run(Effect.flatMap(AgentRepo, (repo) => repo.save(agent.id, projection({ ...keysOf(agent), name: "Versioned", statePath: "provisioning.applying" }), { step: 1 }, 1)))
    await run(Effect.flatMap(AgentRepo, (repo) => repo.save(agent.id, projection({ ...keysOf(agent), name: "Versioned", statePath: "offline", status: "offline" }), { step: "again 2" }, 2)))
    expect(await read()).toMatchObject({ version: "2", statePath: "provisioning.waking", status: "provisioning", snapshot: { step: 2 } })

    const seen = new Date("2030-01-02T03:04:05.678Z")
    await run(Effect.flatMap(AgentRepo, (repo) => repo.save(agent.id, projection({ ...keysOf(agent), name: "Versioned", status: "online", statePath: "online", lastSeenAt: seen }), { step: 3 }, 3)))
    const latest = await read()
    expect(latest).toMatchObject({ version: "3", status: "online", statePath: "online", snapshot: { step: 3 } })
    expect(latest.lastSeenAt?.getTime()).toBe(seen.getTime())
  })

  it("get hides a deleted agent unless asked; list and token lookup never show it", async () => {
    const agent = newAgent({ gatewayId, boardId: boardB }, { name: "Doomed", tokenHash: hash() })
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(agent)))
    await run(Effect.flatMap(AgentRepo, (repo) => repo.save(agent.id, projection({ ...keysOf(agent), name: "Doomed", status: "deleted", statePath: "deleted", tokenHash: agent.projection.tokenHash }), { value: "deleted" }, 1)))
    expect(Option.isNone(await run(Effect.flatMap(AgentRepo, (repo) => repo.get(agent.id))))).toBe(true)
    expect(Option.getOrThrow(await run(Effect.flatMap(AgentRepo, (repo) => repo.get(agent.id, { includeDeleted: true }))))).toMatchObject({ id: agent.id, status: "deleted" })
    const page = await run(Effect.flatMap(AgentRepo, (repo) => repo.list({ boardId: boardB, limit: 50, offset: 0 })))
    expect(page.items.map((row) => row.id)).not.toContain(agent.id)
    expect(Option.isNone(await run(Effect.flatMap(AgentRepo, (repo) => repo.findIdByTokenHash(agent.projection.tokenHash!))))).toBe(true)
    expect((await run(Effect.flatMap(AgentRepo, (repo) => repo.live))).map((row) => row.id)).not.toContain(agent.id)
    // A deleted agent frees its name on the board.
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(newAgent({ gatewayId, boardId: boardB }, { name: "doomed" }))))
  })

  it("list filters by board and gateway, pages with limit/offset and reports the total", async () => {
    const onA = ["A1", "A2", "A3", "A4"].map((name) => newAgent({ gatewayId, boardId: boardA }, { name }))
    const onC = ["C1", "C2"].map((name) => newAgent({ gatewayId: otherGatewayId, boardId: boardC }, { name }))
    for (const agent of [...onA, ...onC]) await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(agent)))
    const list = (filter: { boardId?: string; gatewayId?: string; limit: number; offset: number }) => run(Effect.flatMap(AgentRepo, (repo) => repo.list(filter)))

    const allOnA = await list({ boardId: boardA, limit: 200, offset: 0 })
    expect(allOnA.total).toBe(5) // A1–A4 and "Versioned"
    expect(allOnA.items).toHaveLength(5)
    expect(allOnA.items.every((row) => row.boardId === boardA)).toBe(true)
    expect(allOnA.items.map((row) => row.id)).toEqual(expect.arrayContaining(onA.map((agent) => agent.id)))
    expect(allOnA.items[0]).not.toHaveProperty("snapshot")

    const pages = [await list({ boardId: boardA, limit: 2, offset: 0 }), await list({ boardId: boardA, limit: 2, offset: 2 }), await list({ boardId: boardA, limit: 2, offset: 4 })]
    expect(pages.map((page) => page.items.length)).toEqual([2, 2, 1])
    expect(pages.map((page) => page.total)).toEqual([5, 5, 5])
    expect(pages.flatMap((page) => page.items.map((row) => row.id))).toEqual(allOnA.items.map((row) => row.id))
    expect(await list({ boardId: boardA, limit: 2, offset: 10 })).toEqual({ items: [], total: 5 })

    const onOther = await list({ gatewayId: otherGatewayId, limit: 200, offset: 0 })
    expect(onOther.total).toBe(2)
    expect(onOther.items.map((row) => row.id).sort()).toEqual(onC.map((agent) => agent.id).sort())
    expect((await list({ gatewayId, boardId: boardC, limit: 200, offset: 0 })).total).toBe(0)
    const everything = await list({ limit: 200, offset: 0 })
    const onPrimary = await list({ gatewayId, limit: 200, offset: 0 })
    expect(onPrimary.total).toBe(6) // 5 on Alpha, 1 live on Beta (the deleted one is not counted)
    expect(everything.total).toBe(onPrimary.total + onOther.total)
  })

  it("findIdByTokenHash finds an agent by its token hash and by a staged pending hash", async () => {
    const tokenHash = hash()
    const agent = newAgent({ gatewayId, boardId: boardB }, { name: "Tokened", tokenHash })
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(agent)))
    const find = (value: string) => run(Effect.flatMap(AgentRepo, (repo) => repo.findIdByTokenHash(value)))
    expect(await find(tokenHash)).toEqual(Option.some(agent.id))
    expect(Option.isNone(await find(hash()))).toBe(true)

    const pending = hash()
    await run(Effect.flatMap(AgentRepo, (repo) => repo.stagePendingToken(agent.id, pending)))
    expect(await find(pending)).toEqual(Option.some(agent.id))
    expect(await find(tokenHash)).toEqual(Option.some(agent.id))
    // Once a snapshot carrying the staged hash is saved, the pending slot is cleared and the old hash no longer works.
    await run(Effect.flatMap(AgentRepo, (repo) => repo.save(agent.id, projection({ ...keysOf(agent), name: "Tokened", tokenHash: pending }), {}, 1)))
    expect(await find(pending)).toEqual(Option.some(agent.id))
    expect(Option.isNone(await find(tokenHash))).toBe(true)
    const pendingColumn = await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ pendingTokenHash: string | null }>`select pending_token_hash from agents where id = ${agent.id}`))
    expect(pendingColumn).toEqual([{ pendingTokenHash: null }])
  })

  it("findByName is case-insensitive and scoped to the board (or to the gateway for board-less agents)", async () => {
    const agent = newAgent({ gatewayId, boardId: boardA }, { name: "Grace Hopper" })
    const boardless = newAgent({ gatewayId: otherGatewayId, boardId: null }, { name: "Main Agent" })
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(agent)))
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(boardless)))
    const find = (name: string, boardId: string | null, gateway: string) => run(Effect.flatMap(AgentRepo, (repo) => repo.findByName({ name, boardId, gatewayId: gateway })))
    expect(await find("grace hopper", boardA, gatewayId)).toEqual(Option.some(agent.id))
    expect(await find("GRACE HOPPER", boardA, gatewayId)).toEqual(Option.some(agent.id))
    expect(Option.isNone(await find("Grace Hopper", boardB, gatewayId))).toBe(true)
    expect(Option.isNone(await find("Grace", boardA, gatewayId))).toBe(true)
    expect(await find("main AGENT", null, otherGatewayId)).toEqual(Option.some(boardless.id))
    expect(Option.isNone(await find("Main Agent", null, gatewayId))).toBe(true)
    expect(Option.isNone(await find("Main Agent", boardC, otherGatewayId))).toBe(true)
  })

  it("nameTaken is case-insensitive across the whole gateway, ignores deleted agents and `exceptId`", async () => {
    const taken = (name: string, gateway: string, exceptId?: string) => run(Effect.flatMap(AgentRepo, (repo) => repo.nameTaken({ name, gatewayId: gateway, exceptId })))
    const grace = Option.getOrThrow(await run(Effect.flatMap(AgentRepo, (repo) => repo.findByName({ name: "Grace Hopper", boardId: boardA, gatewayId }))))
    expect(await taken("GRACE hopper", gatewayId)).toBe(true)
    expect(await taken("Grace Hopper", otherGatewayId)).toBe(false)
    expect(await taken("Grace Hopper", gatewayId, grace)).toBe(false)
    expect(await taken("Grace Hopper", gatewayId, randomUUID())).toBe(true)
    expect(await taken("main agent", otherGatewayId)).toBe(true)
    expect(await taken("Nobody", gatewayId)).toBe(false)
    // "Doomed" was deleted, and its name reused by a live "doomed" on the same gateway.
    expect(await taken("DOOMED", gatewayId)).toBe(true)
  })

  it("unique indexes reject a duplicate name on a board and a duplicate token hash with a recognisable SqlError", async () => {
    const first = newAgent({ gatewayId, boardId: boardB }, { name: "Unique", tokenHash: hash() })
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(first)))

    const sameName = await sqlFailureOf(store, Effect.flatMap(AgentRepo, (repo) => repo.insert(newAgent({ gatewayId, boardId: boardB }, { name: "uNIQUE" }))))
    expect(sameName._tag).toBe("SqlError")
    expect(isUniqueViolation(sameName)).toBe(true)

    // Names are unique per gateway too, so another board of the same gateway cannot reuse it.
    const sameGateway = await sqlFailureOf(store, Effect.flatMap(AgentRepo, (repo) => repo.insert(newAgent({ gatewayId, boardId: boardA }, { name: "UNIQUE" }))))
    expect(isUniqueViolation(sameGateway)).toBe(true)
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(newAgent({ gatewayId: otherGatewayId, boardId: boardC }, { name: "Unique" }))))

    const sameToken = await sqlFailureOf(store, Effect.flatMap(AgentRepo, (repo) => repo.insert(newAgent({ gatewayId: otherGatewayId, boardId: boardC }, { name: "Other", tokenHash: first.projection.tokenHash }))))
    expect(isUniqueViolation(sameToken)).toBe(true)

    const second = newAgent({ gatewayId: otherGatewayId, boardId: boardC }, { name: "Second" })
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(second)))
    const saveSameToken = await sqlFailureOf(store, Effect.flatMap(AgentRepo, (repo) => repo.save(second.id, projection({ ...keysOf(second), name: "Second", tokenHash: first.projection.tokenHash }), {}, 1)))
    expect(isUniqueViolation(saveSameToken)).toBe(true)

    const duplicateBoard = await sqlFailureOf(store, Effect.flatMap(BoardRepo, (repo) => repo.insert({ id: randomUUID(), gatewayId, name: "ALPHA" })))
    expect(isUniqueViolation(duplicateBoard)).toBe(true)

    // Other constraint failures are not mistaken for duplicates (foreign key: 23503).
    const orphan = await sqlFailureOf(store, Effect.flatMap(AgentRepo, (repo) => repo.insert(newAgent({ gatewayId: randomUUID(), boardId: null }, { name: "Orphan" }))))
    expect(orphan._tag).toBe("SqlError")
    expect(isUniqueViolation(orphan)).toBe(false)
    const page = await run(Effect.flatMap(AgentRepo, (repo) => repo.list({ boardId: boardB, limit: 200, offset: 0 })))
    expect(page.items.filter((row) => row.name.toLowerCase() === "unique")).toHaveLength(1)
  })

  it("snapshots and JSON columns round-trip exactly: nested snake_case keys are never re-cased", async () => {
    const identityProfile = { communication_style: "terse", favourite_tools: ["rg", "jq"], role_description: null, camelCased: "kept" }
    const lastError = { tag: "GatewayRpcError", message: "boom ✓", transient: true, retryAfterMs: 1500, step: "apply" as const, at: 1_700_000_000_123 }
    const snapshot = {
      status: "active",
      value: { provisioning: "retrying" },
      historyValue: {},
      children: {},
      context: {
        agent_id_like: "x",
        spec: { name: "Round Trip", heartbeat: { every: "30s", target: "last" }, identityProfile, identity_template: "{{ agent_name }}\n", soul_template: null },
        nested_list: [{ deep_key: 1, deeperKey: { yet_another: [true, false, null, 0, -1.25, "ümlaut"] } }],
        empty_object: {},
        empty_list: []
      }
    }
    const agent = newAgent(
      { gatewayId, boardId: boardA },
      { name: "Round Trip", identityProfile, lastError, heartbeatConfig: { every: "30s", target: "last" }, identityTemplate: "{{ agent_name }}\n", soulTemplate: "be_kind" },
      snapshot
    )
    await run(Effect.flatMap(AgentRepo, (repo) => repo.insert(agent)))
    const row = Option.getOrThrow(await run(Effect.flatMap(AgentRepo, (repo) => repo.get(agent.id))))
    expect(row.snapshot).toStrictEqual(snapshot)
    expect(row.identityProfile).toStrictEqual(identityProfile)
    expect(row.lastError).toStrictEqual(lastError)
    expect(row.heartbeatConfig).toStrictEqual({ every: "30s", target: "last" })
    expect(row.identityTemplate).toBe("{{ agent_name }}\n")
    expect(row.soulTemplate).toBe("be_kind")
    const live = (await run(Effect.flatMap(AgentRepo, (repo) => repo.live))).find((stored) => stored.id === agent.id)
    expect(live).toMatchObject({ machineVersion: "1" })
    expect(live?.snapshot).toStrictEqual(snapshot)

    const saved = { ...snapshot, value: "online", context: { ...snapshot.context, last_seen: 42 } }
    await run(Effect.flatMap(AgentRepo, (repo) => repo.save(agent.id, projection({ ...keysOf(agent), name: "Round Trip", identityProfile }), saved, 1)))
    const after = Option.getOrThrow(await run(Effect.flatMap(AgentRepo, (repo) => repo.get(agent.id))))
    expect(after.snapshot).toStrictEqual(saved)
    expect(after.identityProfile).toStrictEqual(identityProfile)
  })

  describe("AgentSystem restore across a service restart (gateway: simulator)", () => {
    let restoreStorage: Storage
    let simulator: GatewaySimulator
    let service: InProcessService | undefined
    let agentId: string
    let versionBefore: number
    let restoreFailure: Cause.Cause<unknown> | undefined

    // The first argument is ignored when `overrides` chooses the embedded default.
    const start = () => {
      const url = Option.match(restoreStorage.overrides.databaseUrl ?? Option.none(), { onNone: () => "", onSome: Redacted.value })
      return startInProcessService(url, { ...restoreStorage.overrides, checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 })
    }
    const stop = async () => {
      await service?.stop()
      service = undefined
    }

    beforeAll(async () => {
      restoreStorage = await backend.fresh()
      simulator = await startGatewaySimulator()
    })

    afterAll(async () => {
      await stop()
      await simulator?.stop()
      await restoreStorage?.dispose()
    })

    it("an agent waiting for its check-in is restored in the same state and goes online on a heartbeat", async () => {
      service = await start()
      const gateway = await service.api("POST", "/api/v1/gateways", { name: "sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
      expect(gateway.status).toBe(201)
      const board = await service.api("POST", "/api/v1/boards", { name: "Restore", gateway_id: gateway.body.id })
      expect(board.status).toBe(201)
      const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: "Phoenix", board_id: board.body.id })
      expect(created.status).toBe(201)
      expect(created.body.state).toBe("provisioning.awaiting")
      agentId = created.body.id
      versionBefore = (await service.api("GET", `/api/v1/agents/${agentId}`)).body.version
      expect(versionBefore).toBeGreaterThan(0)
      await stop()

      const restartedAt = Date.now()
      service = await start()
      const restarted = service
      await expect.poll(() => readyz(restarted), { timeout: 30_000, interval: 50 }).toBe(200)
      console.log(`[measure] ${backend.name}: restart to /readyz 200 in ${Date.now() - restartedAt} ms`)
      const restored = await service.api("GET", `/api/v1/agents/${agentId}`)
      expect(restored.status).toBe(200)
      expect(restored.body).toMatchObject({ id: agentId, status: "provisioning", state: "provisioning.awaiting" })
      expect(restored.body.version).toBeGreaterThanOrEqual(versionBefore)
      const actor = (await service.agents()).snapshot(agentId)
      expect(actor?.matches({ provisioning: "awaiting" })).toBe(true)

      const agentsMd = simulator.state.files.get(`mc-${agentId}`)?.get("AGENTS.md") ?? ""
      const token = readAuthToken(agentsMd)
      expect(token).toMatch(/^sy_/)
      const beat = await asAgent(service, "POST", "/api/v1/agent/heartbeat", token!)
      expect(beat.status).toBe(200)
      expect(beat.body).toMatchObject({ id: agentId, status: "online", state: "online" })
      expect((await service.api("GET", `/api/v1/agents/${agentId}`)).body.status).toBe("online")
    })

    it("an unknown machine_version in a row makes restore fail loudly and /readyz stay 503", async () => {
      expect(agentId).toBeDefined()
      await stop()
      await withStore(restoreStorage, (db) => db.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`update agents set machine_version = '999' where id = ${agentId}`)))

      service = await start()
      const restarted = service
      const outcome = await service.runtime.runPromiseExit(Effect.flatMap(AgentSystem, (system) => system.restoreAll))
      expect(Exit.isFailure(outcome)).toBe(true)
      if (Exit.isFailure(outcome)) restoreFailure = outcome.cause
      const error = Exit.isFailure(outcome) ? Option.getOrUndefined(Cause.failureOption(outcome.cause)) : undefined
      expect(error).toMatchObject({ _tag: "MachineVersionUnknown", agentId, version: "999" })

      const answers: Array<number> = []
      for (let i = 0; i < 10; i++) answers.push(await readyz(restarted))
      expect(new Set(answers)).toEqual(new Set([503]))
      expect(await (await fetch(`${restarted.url}/readyz`)).json()).toMatchObject({ ok: false })
      expect((await service.agents()).snapshot(agentId)).toBeUndefined()
      expect(await service.runtime.runPromise(Effect.flatMap(AgentSystem, (system) => system.readiness))).toMatchObject({
        state: "failed",
        reason: expect.stringContaining(agentId)
      })
      expect(await (await fetch(`${restarted.url}/readyz`)).json()).toMatchObject({ detail: expect.stringContaining('version "999"') })
      // The row is left as found: nothing guessed, nothing rewritten.
      const row = await service.api("GET", `/api/v1/agents/${agentId}`)
      expect(row.body).toMatchObject({ status: "online" })
    })

    // RestoreLive logs this cause (Cause.pretty) and nothing else: it is all an operator gets.
    it("the logged restore failure names the agent and the unknown machine version", () => {
      expect(restoreFailure).toBeDefined()
      const logged = Cause.pretty(restoreFailure!)
      expect(logged).toContain("MachineVersionUnknown")
      expect(logged).toContain(agentId)
      expect(logged).toContain("999")
    })
  })
})
