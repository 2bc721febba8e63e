import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import type { GatewayDevice, GatewayTarget } from "../gateway/GatewayClient.ts"
import { generateDeviceIdentity, parseDeviceIdentity, serializeDeviceIdentity, type DeviceIdentity } from "../gateway/DeviceIdentity.ts"
import { batchedOpenedReads, batchedReads } from "./batchedReads.ts"
import { SecretBox, SecretBoxLive } from "./SecretBox.ts"

/** A gateway as the API shows it: never its token. */
export interface GatewayRow {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly workspaceRoot: string
  /** Set once a delete was asked: the row stays until the gateway's agents are removed from it. */
  readonly deletingAt: Date | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface GatewayRecord extends GatewayRow {
  readonly token: Redacted.Redacted<string>
  /** This service's device identity towards the gateway, once `ensureDevice` made one. */
  readonly device?: GatewayDevice | undefined
}

export interface NewGateway {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly workspaceRoot: string
  /** The device identity a probe already presented (a pairing request is bound to it); none makes one on first use. */
  readonly deviceIdentity?: DeviceIdentity | undefined
}

export interface GatewayRepoShape {
  readonly insert: (gateway: NewGateway) => Effect.Effect<GatewayRow, SqlError>
  readonly list: Effect.Effect<ReadonlyArray<GatewayRow>, SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<GatewayRecord>, SqlError>
  /**
   * `get` shared with the callers that ask meanwhile (`batchedReads`: one statement per batch,
   * sent after each caller asked; docs/architecture.md §6.5): for the many applies of a burst or
   * a template sync. A row that does not open kills only its own callers, as `get` does. Its
   * statement never runs in the caller's transaction (`batchedStatements`).
   */
  readonly getShared: (id: string) => Effect.Effect<Option.Option<GatewayRecord>, SqlError>
  /**
   * Whether the gateway's row exists, read with the callers that ask meanwhile (`batchedReads`:
   * the activations of a takeover share one statement).
   */
  readonly exists: (id: string) => Effect.Effect<boolean, SqlError>
  readonly update: (
    id: string,
    changes: Partial<Omit<NewGateway, "id">>
  ) => Effect.Effect<Option.Option<GatewayRow>, SqlError>
  readonly remove: (id: string) => Effect.Effect<boolean, SqlError>
  /** Marks the gateway as being deleted (idempotent: the first instant stays); false when it does not exist. */
  readonly markDeleting: (id: string) => Effect.Effect<boolean, SqlError>
  /** The ids of gateways marked as being deleted. */
  readonly deleting: Effect.Effect<ReadonlyArray<string>, SqlError>
  /**
   * The gateway's device identity, created and stored (encrypted) on first use; none when the
   * gateway does not exist. Concurrent callers all get the one that was stored.
   */
  readonly ensureDevice: (id: string) => Effect.Effect<Option.Option<DeviceIdentity>, SqlError>
  /** Stores the device token the gateway issued after pairing (`null` forgets it); false when the gateway does not exist. */
  readonly setDeviceToken: (id: string, deviceToken: Redacted.Redacted<string> | null) => Effect.Effect<boolean, SqlError>
}

/**
 * Gateways table. The shared token, the device identity and the device token are stored only
 * encrypted (`SecretBox`, bound to their row and column); they are read only to build a
 * `GatewayTarget` for the gateway client. A plaintext `token` left by migration 0001 is encrypted
 * the first time `get` reads its row. A value that does not decrypt (wrong
 * `SWITCHYARD_SECRET_KEY`, altered row) is a defect naming the gateway and column, never the value.
 */
export class GatewayRepo extends Context.Tag("switchyard/GatewayRepo")<GatewayRepo, GatewayRepoShape>() {}

interface Raw extends GatewayRow {
  readonly token: string | null
  readonly tokenEncrypted: string | null
  readonly deviceIdentityEncrypted: string | null
  readonly deviceTokenEncrypted: string | null
}

const publicRow = (raw: Raw): GatewayRow => ({
  id: raw.id,
  name: raw.name,
  url: raw.url,
  workspaceRoot: raw.workspaceRoot,
  deletingAt: raw.deletingAt ?? null,
  createdAt: raw.createdAt,
  updatedAt: raw.updatedAt
})

/** Associated data of each sealed column: a value copied to another row or column does not open. */
const sealedAs = {
  token: (id: string) => `gateways.token:${id}`,
  deviceIdentity: (id: string) => `gateways.device_identity:${id}`,
  deviceToken: (id: string) => `gateways.device_token:${id}`
}

/**
 * The gateway client's view of a gateway record. Pass `onDeviceToken` (e.g.
 * `(token) => repo.setDeviceToken(gateway.id, token)`) to keep the token a remote gateway issues.
 */
export const targetOf = (
  gateway: GatewayRecord,
  options: { readonly onDeviceToken?: GatewayTarget["onDeviceToken"] } = {}
): GatewayTarget => ({
  id: gateway.id,
  url: gateway.url,
  token: gateway.token,
  ...(gateway.device === undefined ? {} : { device: gateway.device }),
  ...(options.onDeviceToken === undefined ? {} : { onDeviceToken: options.onDeviceToken })
})

/** Opened secrets and parsed identities kept at most, per repository. */
const MEMO_LIMIT = 1_000

/** The repository over `SqlClient` and `SecretBox`. */
export const makeGatewayRepo = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const box = yield* SecretBox
  const seal = (value: Redacted.Redacted<string>, context: string) => box.encrypt(value, context)
  // Opened values by sealed text: a row read on every apply is not decrypted (nor its identity
  // parsed) each time. A changed secret is a new sealed text (fresh IV), so nothing stale is served.
  const opened = new Map<string, Redacted.Redacted<string>>()
  const parsedIdentities = new Map<string, DeviceIdentity>()
  const remember = <V>(memo: Map<string, V>, key: string, value: V) => {
    if (memo.size >= MEMO_LIMIT) memo.clear()
    memo.set(key, value)
    return value
  }
  const open = (sealed: string, context: string) => {
    const key = `${context}\u0000${sealed}`
    const known = opened.get(key)
    return known !== undefined ? Effect.succeed(known) : box.decrypt(sealed, context).pipe(Effect.map((value) => remember(opened, key, value)), Effect.orDie)
  }

  /** Moves a plaintext token (migration 0001) into `token_encrypted`. */
  const migrateToken = (raw: Raw): Effect.Effect<Raw, SqlError> => {
    if (raw.tokenEncrypted !== null || raw.token === null) return Effect.succeed(raw)
    const plain = raw.token
    return seal(Redacted.make(plain), sealedAs.token(raw.id)).pipe(
      Effect.tap((sealed) => sql`update gateways set token_encrypted = ${sealed}, token = null where id = ${raw.id} and token_encrypted is null`),
      Effect.map((sealed) => ({ ...raw, token: null, tokenEncrypted: sealed }))
    )
  }

  const identityOf = (raw: Raw): Effect.Effect<DeviceIdentity | undefined> => {
    const sealed = raw.deviceIdentityEncrypted
    if (sealed === null) return Effect.succeed(undefined)
    // Keyed like `open`, by the decryption context too: the same sealed text under another gateway's row is not its identity.
    const context = sealedAs.deviceIdentity(raw.id)
    const key = `${context}\u0000${sealed}`
    const known = parsedIdentities.get(key)
    if (known !== undefined) return Effect.succeed(known)
    return open(sealed, context).pipe(
      Effect.flatMap((text) => Effect.try({ try: () => parseDeviceIdentity(text), catch: (error) => error })),
      Effect.map((identity) => remember(parsedIdentities, key, identity)),
      Effect.orDie
    )
  }

  const record = (stored: Raw): Effect.Effect<GatewayRecord, SqlError> =>
    Effect.gen(function* () {
      const raw = yield* migrateToken(stored)
      const token = raw.tokenEncrypted === null ? Redacted.make("") : yield* open(raw.tokenEncrypted, sealedAs.token(raw.id))
      const identity = yield* identityOf(raw)
      if (identity === undefined) return { ...publicRow(raw), token }
      const deviceToken = raw.deviceTokenEncrypted === null ? undefined : yield* open(raw.deviceTokenEncrypted, sealedAs.deviceToken(raw.id))
      return { ...publicRow(raw), token, device: { identity, deviceToken } }
    })

  const selectRaw = (id: string) => sql<Raw>`select * from gateways where id = ${id}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

  // No plaintext token outlives the start-up: rows from before migration 0002 are sealed now,
  // not whenever they happen to be read.
  const plaintext = yield* sql<Raw>`select * from gateways where token is not null and token_encrypted is null`
  yield* Effect.forEach(plaintext, migrateToken, { discard: true })

  // Each row's record (its secrets opened) once per statement, whatever the number of callers; a
  // row that does not open is a defect for its own callers only.
  const getShared = batchedOpenedReads(
    (ids) => sql<Raw>`select * from gateways where id = any(string_to_array(${ids.join(",")}, ',')::uuid[])`,
    record
  )

  const stored = batchedReads((ids) => sql<{ id: string }>`select id from gateways where id = any(string_to_array(${ids.join(",")}, ',')::uuid[])`)

  return GatewayRepo.of({
    getShared,
    exists: (id) => Effect.map(stored(id), Option.isSome),
    insert: (gateway) =>
      Effect.gen(function* () {
        const { token, deviceIdentity, ...fields } = gateway
        const tokenEncrypted = yield* seal(token, sealedAs.token(gateway.id))
        const deviceIdentityEncrypted =
          deviceIdentity === undefined ? null : yield* seal(serializeDeviceIdentity(deviceIdentity), sealedAs.deviceIdentity(gateway.id))
        const rows = yield* sql<Raw>`insert into gateways ${sql.insert({ ...fields, token: null, tokenEncrypted, deviceIdentityEncrypted })} returning *`
        return publicRow(rows[0]!)
      }),
    list: sql<Raw>`select * from gateways order by created_at`.pipe(Effect.map((rows) => rows.map(publicRow))),
    get: (id) =>
      selectRaw(id).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.succeed(Option.none()), onSome: (raw) => Effect.map(record(raw), Option.some) }))
      ),
    update: (id, changes) =>
      Effect.gen(function* () {
        const values: Record<string, string | null> = {}
        if (changes.name !== undefined) values["name"] = changes.name
        if (changes.url !== undefined) {
          values["url"] = changes.url
          // A device token is the old gateway's credential: never send it to a new address.
          values["deviceTokenEncrypted"] = null
        }
        if (changes.workspaceRoot !== undefined) values["workspaceRoot"] = changes.workspaceRoot
        if (changes.token !== undefined) {
          values["tokenEncrypted"] = yield* seal(changes.token, sealedAs.token(id))
          values["token"] = null
        }
        const rows = yield* sql<Raw>`update gateways set ${sql.update({ ...values, updatedAt: new Date() })} where id = ${id} returning *`
        return Option.fromNullable(rows[0]).pipe(Option.map(publicRow))
      }),
    remove: (id) => sql`delete from gateways where id = ${id} returning id`.pipe(Effect.map((rows) => rows.length > 0)),
    markDeleting: (id) =>
      sql`update gateways set deleting_at = coalesce(deleting_at, now()) where id = ${id} returning id`.pipe(Effect.map((rows) => rows.length > 0)),
    deleting: sql<{ id: string }>`select id from gateways where deleting_at is not null order by deleting_at`.pipe(Effect.map((rows) => rows.map((row) => row.id))),
    ensureDevice: (id) =>
      Effect.gen(function* () {
        const stored = yield* selectRaw(id)
        if (Option.isNone(stored)) return Option.none()
        if (stored.value.deviceIdentityEncrypted === null) {
          const sealed = yield* seal(serializeDeviceIdentity(generateDeviceIdentity()), sealedAs.deviceIdentity(id))
          yield* sql`update gateways set device_identity_encrypted = ${sealed} where id = ${id} and device_identity_encrypted is null`
        }
        const current = stored.value.deviceIdentityEncrypted === null ? yield* selectRaw(id) : stored
        if (Option.isNone(current)) return Option.none()
        return Option.fromNullable(yield* identityOf(current.value))
      }),
    setDeviceToken: (id, deviceToken) =>
      Effect.gen(function* () {
        const sealed = deviceToken === null ? null : yield* seal(deviceToken, sealedAs.deviceToken(id))
        const rows = yield* sql`update gateways set device_token_encrypted = ${sealed} where id = ${id} returning id`
        return rows.length > 0
      })
  })
})

/** Live layer: needs `SqlClient` and `AppConfig` (for the `SecretBoxLive` key it builds). */
export const GatewayRepoLive = Layer.effect(GatewayRepo, makeGatewayRepo).pipe(Layer.provide(SecretBoxLive))
