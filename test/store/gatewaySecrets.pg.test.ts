import { randomBytes, randomUUID } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GatewayRepo, GatewayRepoLive } from "../../src/store/GatewayRepo.ts"
import { SecretBoxDecryptError } from "../../src/store/SecretBox.ts"
import { createTestDatabase } from "../support/database.ts"

interface StoredRow {
  readonly token: string | null
  readonly tokenEncrypted: string | null
  readonly deviceIdentityEncrypted: string | null
  readonly deviceTokenEncrypted: string | null
}

const SEALED = /^v1:[\w-]+:[\w-]+:[\w-]+$/

/** Migrated SQL client and GatewayRepo (with its SecretBoxLive) on `url`, keyed by `secretKey`. */
const openStore = (url: string, secretKey: string) =>
  ManagedRuntime.make(
    GatewayRepoLive.pipe(
      Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)),
      Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(url)), secretKey: Option.some(Redacted.make(secretKey)) }))
    )
  )

describe("GatewayRepo secrets at rest (SecretBox, migration 0002) on the machine's Postgres", () => {
  const key = randomBytes(32).toString("base64")
  let db: { url: string; drop: () => Promise<void> }
  let store: ReturnType<typeof openStore>
  const run = <A, E>(effect: Effect.Effect<A, E, GatewayRepo | SqlClient.SqlClient>) => store.runPromise(effect)
  const repo = <A, E>(use: (repo: GatewayRepo["Type"]) => Effect.Effect<A, E>) => run(Effect.flatMap(GatewayRepo, use))
  const stored = async (id: string) =>
    (await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<StoredRow>`select token, token_encrypted, device_identity_encrypted, device_token_encrypted from gateways where id = ${id}`)))[0]!
  const insert = async (token: string) => {
    const id = randomUUID()
    await repo((r) => r.insert({ id, name: `gw-${id}`, url: "ws://10.0.0.1:18789", token: Redacted.make(token), workspaceRoot: "/srv" }))
    return id
  }
  /** The defect `get(id)` dies with on `other` (a store with another key, or the same). */
  const getDefect = async (other: ReturnType<typeof openStore>, id: string) => {
    const exit = await other.runPromiseExit(Effect.flatMap(GatewayRepo, (r) => r.get(id)))
    if (Exit.isSuccess(exit)) throw new Error("expected get to die")
    return Option.getOrUndefined(Cause.dieOption(exit.cause))
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    store = openStore(db.url, key)
    await store.runPromise(Effect.void)
  })
  afterAll(async () => {
    await store?.dispose()
    await db?.drop()
  })

  it("writes the token only encrypted and reads it back; rows, lists and updates never carry it", async () => {
    const token = `gw-secret-${randomUUID()}`
    const id = await insert(token)
    const row = await stored(id)
    expect(row.token).toBeNull()
    expect(row.tokenEncrypted).toMatch(SEALED)
    expect(JSON.stringify(row)).not.toContain(token)
    expect(Redacted.value(Option.getOrThrow(await repo((r) => r.get(id))).token)).toBe(token)
    expect(JSON.stringify(await repo((r) => r.list))).not.toMatch(/token|encrypted/i)

    const rotated = `gw-rotated-${randomUUID()}`
    const updated = Option.getOrThrow(await repo((r) => r.update(id, { token: Redacted.make(rotated) })))
    expect(Object.keys(updated).sort()).toEqual(["createdAt", "deletingAt", "id", "name", "updatedAt", "url", "workspaceRoot"])
    expect((await stored(id)).tokenEncrypted).not.toBe(row.tokenEncrypted)
    expect(Redacted.value(Option.getOrThrow(await repo((r) => r.get(id))).token)).toBe(rotated)
  })

  it("moves a plaintext token left by migration 0001 into token_encrypted on first read", async () => {
    const id = randomUUID()
    const token = `legacy-${randomUUID()}`
    await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`insert into gateways (id, name, url, token, workspace_root) values (${id}, ${`legacy-${id}`}, 'ws://10.0.0.2:1', ${token}, '/srv')`))
    expect(await stored(id)).toMatchObject({ token, tokenEncrypted: null })
    expect(Redacted.value(Option.getOrThrow(await repo((r) => r.get(id))).token)).toBe(token)
    const after = await stored(id)
    expect(after.token).toBeNull()
    expect(after.tokenEncrypted).toMatch(SEALED)
    expect(Redacted.value(Option.getOrThrow(await repo((r) => r.get(id))).token)).toBe(token)
  })

  it("ensureDevice creates one identity per gateway, even under concurrent callers, and get returns it", async () => {
    const id = await insert("t")
    expect(Option.getOrThrow(await repo((r) => r.get(id))).device).toBeUndefined()
    const identities = await run(Effect.all(Array.from({ length: 5 }, () => Effect.flatMap(GatewayRepo, (r) => r.ensureDevice(id))), { concurrency: "unbounded" }))
    const ids = new Set(identities.map((identity) => Option.getOrThrow(identity).deviceId))
    expect(ids.size).toBe(1)
    const device = Option.getOrThrow(await repo((r) => r.get(id))).device
    expect(device?.identity.deviceId).toBe([...ids][0])
    expect(device?.deviceToken).toBeUndefined()
    const row = await stored(id)
    expect(row.deviceIdentityEncrypted).toMatch(SEALED)
    expect(row.deviceIdentityEncrypted).not.toContain(device!.identity.publicKey)
    expect(Option.isNone(await repo((r) => r.ensureDevice(randomUUID())))).toBe(true)
  })

  it("setDeviceToken stores the issued device token encrypted; null forgets it", async () => {
    const id = await insert("t")
    await repo((r) => r.ensureDevice(id))
    const deviceToken = `device-${randomUUID()}`
    expect(await repo((r) => r.setDeviceToken(id, Redacted.make(deviceToken)))).toBe(true)
    const row = await stored(id)
    expect(row.deviceTokenEncrypted).toMatch(SEALED)
    expect(JSON.stringify(row)).not.toContain(deviceToken)
    expect(Redacted.value(Option.getOrThrow(await repo((r) => r.get(id))).device!.deviceToken!)).toBe(deviceToken)
    expect(await repo((r) => r.setDeviceToken(id, null))).toBe(true)
    expect(Option.getOrThrow(await repo((r) => r.get(id))).device?.deviceToken).toBeUndefined()
    expect(await repo((r) => r.setDeviceToken(randomUUID(), Redacted.make("x")))).toBe(false)
  })

  it("a wrong SWITCHYARD_SECRET_KEY or a value moved to another row is a loud defect that names the column, not the secret", async () => {
    const token = `gw-secret-${randomUUID()}`
    const id = await insert(token)
    const otherKey = openStore(db.url, randomBytes(32).toString("base64"))
    try {
      const defect = await getDefect(otherKey, id)
      expect(defect).toBeInstanceOf(SecretBoxDecryptError)
      expect(defect).toMatchObject({ reason: "unauthentic", context: `gateways.token:${id}` })
      expect(String(defect)).not.toContain(token)
    } finally {
      await otherKey.dispose()
    }
    const victim = await insert("victim-token")
    await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`update gateways set token_encrypted = (select token_encrypted from gateways where id = ${id}) where id = ${victim}`))
    expect(await getDefect(store, victim)).toMatchObject({ _tag: "SecretBoxDecryptError", context: `gateways.token:${victim}` })
  })

  it("a row that does not open kills only its own shared reads: the others read in the same statement get their records", async () => {
    const [first, second, victim, third] = [await insert("t-first"), await insert("t-second"), await insert("t-victim"), await insert("t-third")]
    // The victim's sealed token is another row's: it does not open under its own row's context.
    await run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`update gateways set token_encrypted = (select token_encrypted from gateways where id = ${first}) where id = ${victim}`))
    const exits = await run(
      Effect.flatMap(GatewayRepo, (r) => Effect.all([first, second, victim, third].map((id) => Effect.exit(r.getShared(id))), { concurrency: "unbounded" }))
    )
    const tokens = exits.map((exit) => (Exit.isSuccess(exit) ? Redacted.value(Option.getOrThrow(exit.value).token) : Option.getOrUndefined(Cause.dieOption(exit.cause))))
    expect(tokens[0]).toBe("t-first")
    expect(tokens[1]).toBe("t-second")
    expect(tokens[2]).toMatchObject({ _tag: "SecretBoxDecryptError", context: `gateways.token:${victim}` })
    expect(tokens[3]).toBe("t-third")
  })
})
