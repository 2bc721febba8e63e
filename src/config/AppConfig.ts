import { Config, Context, Effect, Layer, Option, Redacted } from "effect"

/**
 * Every setting of the service, read once here (README "Configuration"). Secrets stay
 * `Redacted`; no other module reads `process.env`.
 */
export interface AppConfigShape {
  /** HTTP port (`PORT`, default 8000). */
  readonly port: number
  /** External Postgres (`DATABASE_URL`); none means the embedded default. */
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  /** Where the embedded database and the generated admin token live (`SWITCHYARD_DATA_DIR`). */
  readonly dataDir: string
  /** Admin bearer token (`SWITCHYARD_ADMIN_TOKEN`); none means generate one on first start. */
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  /**
   * Key for gateway secrets at rest (`SWITCHYARD_SECRET_KEY`): 32 bytes, base64 or base64url.
   * None means `<dataDir>/secret-key`, generated on first start.
   */
  readonly secretKey: Option.Option<Redacted.Redacted<string>>
  /** The URL agents call back, rendered into their workspace (`SWITCHYARD_BASE_URL`). */
  readonly baseUrl: string
  /** Silence before online → offline, ms (`SWITCHYARD_OFFLINE_AFTER_MS`, default 10 min). */
  readonly offlineAfterMs: number
  /**
   * Check-in deadline after a wake, ms (`SWITCHYARD_CHECKIN_TIMEOUT_MS`, default 2 min: a real
   * first run reads its files before it calls back; a run under way extends it, docs/operations.md §8).
   */
  readonly checkinTimeoutMs: number
  /** How long a gateway may be unreachable before its agents go offline, ms (`SWITCHYARD_GATEWAY_LOST_AFTER_MS`, default 90 s). */
  readonly gatewayLostAfterMs: number
  /**
   * Silence limit factor: max(`offlineAfterMs`, factor × the effective heartbeat interval + grace)
   * (`SWITCHYARD_OFFLINE_FACTOR`, default 1.5; 0 leaves the floor alone, as before liveness; off in `AppConfigTest`).
   */
  readonly offlineFactor: number
  /** Grace added to factor × the effective heartbeat interval for the silence limit, ms (`SWITCHYARD_OFFLINE_GRACE_MS`, default 60 s). */
  readonly offlineGraceMs: number
  /** Failed runs in a row before an agent goes offline, "runs failing" (`SWITCHYARD_MAX_FAILED_RUNS`, default 3). */
  readonly maxFailedRuns: number
  /** How often each gateway's watcher probes its reachability (a one-row `sessions.list`), ms (`SWITCHYARD_LIVENESS_PROBE_MS`, default 15 s). */
  readonly livenessProbeMs: number
  /** How often each gateway's `agents.list` is compared with our agents and its `health` (effective heartbeats) read, ms (`SWITCHYARD_RECONCILE_MS`, default 5 min). */
  readonly reconcileMs: number
  /**
   * How often each gateway's owner compares its agents' managed workspace files with what it last
   * wrote, ms (`SWITCHYARD_WORKSPACE_CHECK_MS`, default 10 min; 0 turns the check off, as in
   * `AppConfigTest`; docs/operations.md §8 "Workspace drift").
   */
  readonly workspaceCheckMs: number
  /** Whether each gateway gets a liveness watcher (`SWITCHYARD_LIVENESS_WATCHERS`, default true; off in `AppConfigTest`). */
  readonly livenessWatchers: boolean
  /** Wakes without a check-in before offline (`SWITCHYARD_MAX_WAKE_ATTEMPTS`, default 3). */
  readonly maxWakeAttempts: number
  /** Attempts of a failing lifecycle step before `failed` (`SWITCHYARD_MAX_ATTEMPTS`, default 5). */
  readonly maxAttempts: number
  /** First delay between lifecycle attempts, ms (`SWITCHYARD_RETRY_BASE_MS`, default 2 s). */
  readonly retryBaseMs: number
  /** Per-call gateway timeout, ms (`SWITCHYARD_GATEWAY_CALL_TIMEOUT_MS`, default 30 s). */
  readonly gatewayCallTimeoutMs: number
  /** How long heartbeat-config changes for one gateway are gathered into one patch, ms (`SWITCHYARD_CONFIG_BATCH_MS`, default 250). */
  readonly configBatchMs: number
  /**
   * Oldest gateway release accepted, CalVer `YYYY.M.D` (`SWITCHYARD_GATEWAY_MIN_VERSION`, default
   * `DEFAULT_GATEWAY_MIN_VERSION`). Non-CalVer builds (`dev`) pass on their protocol alone
   * (docs/operations.md §6.6).
   */
  readonly gatewayMinVersion: string
  /** Agents of one gateway a template sync updates at once (`SWITCHYARD_SYNC_CONCURRENCY`, default 8). */
  readonly syncConcurrency: number
  /** How long a template sync waits for one agent's update to settle, ms (`SWITCHYARD_SYNC_AGENT_TIMEOUT_MS`, default 3 min). */
  readonly syncAgentTimeoutMs: number
  /** Transitions kept per agent in its history and the change stream's replay (`SWITCHYARD_TRANSITIONS_KEEP_PER_AGENT`, default 500). */
  readonly transitionsKeepPerAgent: number
  /** How long a polled inbox message stays leased before it is delivered again, ms (`SWITCHYARD_INBOX_LEASE_MS`, default 60 s). */
  readonly inboxLeaseMs: number
  /** Longest wait for a pooled database connection, a new one included, ms (`SWITCHYARD_DB_ACQUIRE_TIMEOUT_MS`, default 5 s). */
  readonly dbAcquireTimeoutMs: number
  /** Longest one SQL statement may take before it fails, ms (`SWITCHYARD_DB_STATEMENT_TIMEOUT_MS`, default 10 s). */
  readonly dbStatementTimeoutMs: number
  /** How long start-up keeps trying to reach the database before it gives up, ms (`SWITCHYARD_DB_STARTUP_TIMEOUT_MS`, default 30 s). */
  readonly dbStartupTimeoutMs: number
  /** Base URL of an OTLP/HTTP collector (`OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to `<url>/v1/traces`. None: no tracer installed, nothing exported. */
  readonly otlpEndpoint: Option.Option<string>
  /** `service.name` of the exported traces (`OTEL_SERVICE_NAME`, default `switchyard`). */
  readonly otelServiceName: string
  /** The address other runners reach this one at (`SWITCHYARD_RUNNER_HOST`, default `127.0.0.1`; docs/operations.md "Cluster"). */
  readonly runnerHost: string
  /**
   * The cluster port of this runner (`SWITCHYARD_RUNNER_PORT`): distinct per instance on one host.
   * 0 (the default) picks a free port at start, which suits a single instance.
   */
  readonly runnerPort: number
  /**
   * How long a dead runner's shard locks hold before another runner may take its gateways, ms
   * (`SWITCHYARD_SHARD_LOCK_EXPIRATION_MS`, default 35 s, the engine's default).
   */
  readonly shardLockExpirationMs: number
}

export class AppConfig extends Context.Tag("switchyard/AppConfig")<AppConfig, AppConfigShape>() {}

/** A 32-byte key written in base64 or base64url (padding optional). */
export const isSecretKey = (text: string): boolean => /^[A-Za-z0-9+/_-]{43}=?$/.test(text.trim()) && Buffer.from(text.trim(), "base64").length === 32

/** Fixed key of `AppConfigTest`, so test runtimes over one database read each other's secrets. */
const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString("base64")

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must be a positive integer`, validation: (n) => n > 0 })
  )

/**
 * The oldest OpenClaw release accepted by default: the older of the two releases CI runs the
 * real-gateway suites against (docs/gateway-protocol.md §11).
 */
export const DEFAULT_GATEWAY_MIN_VERSION = "2026.8.2"

export const appConfig: Config.Config<AppConfigShape> = Config.all({
  port: Config.port("PORT").pipe(Config.withDefault(8000)),
  databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
  dataDir: Config.string("SWITCHYARD_DATA_DIR").pipe(Config.withDefault(".switchyard")),
  // An empty token would let "Bearer " in; a short one is guessable. Both are refused at start.
  adminToken: Config.option(
    Config.redacted("SWITCHYARD_ADMIN_TOKEN").pipe(
      Config.validate({ message: "SWITCHYARD_ADMIN_TOKEN must be at least 16 characters", validation: (token) => Redacted.value(token).length >= 16 })
    )
  ),
  secretKey: Config.option(
    Config.redacted("SWITCHYARD_SECRET_KEY").pipe(
      Config.validate({ message: "SWITCHYARD_SECRET_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)", validation: (key) => isSecretKey(Redacted.value(key)) })
    )
  ),
  baseUrl: Config.option(Config.string("SWITCHYARD_BASE_URL")),
  offlineAfterMs: positive("SWITCHYARD_OFFLINE_AFTER_MS", 600_000),
  checkinTimeoutMs: positive("SWITCHYARD_CHECKIN_TIMEOUT_MS", 120_000),
  gatewayLostAfterMs: positive("SWITCHYARD_GATEWAY_LOST_AFTER_MS", 90_000),
  offlineFactor: Config.number("SWITCHYARD_OFFLINE_FACTOR").pipe(
    Config.withDefault(1.5),
    Config.validate({ message: "SWITCHYARD_OFFLINE_FACTOR must be a number ≥ 0", validation: (n) => n >= 0 })
  ),
  offlineGraceMs: positive("SWITCHYARD_OFFLINE_GRACE_MS", 60_000),
  maxFailedRuns: positive("SWITCHYARD_MAX_FAILED_RUNS", 3),
  livenessProbeMs: positive("SWITCHYARD_LIVENESS_PROBE_MS", 15_000),
  reconcileMs: positive("SWITCHYARD_RECONCILE_MS", 300_000),
  livenessWatchers: Config.boolean("SWITCHYARD_LIVENESS_WATCHERS").pipe(Config.withDefault(true)),
  workspaceCheckMs: Config.integer("SWITCHYARD_WORKSPACE_CHECK_MS").pipe(
    Config.withDefault(600_000),
    Config.validate({ message: "SWITCHYARD_WORKSPACE_CHECK_MS must be an integer ≥ 0 (0: off)", validation: (n) => n >= 0 })
  ),
  maxWakeAttempts: positive("SWITCHYARD_MAX_WAKE_ATTEMPTS", 3),
  maxAttempts: positive("SWITCHYARD_MAX_ATTEMPTS", 5),
  retryBaseMs: positive("SWITCHYARD_RETRY_BASE_MS", 2_000),
  gatewayCallTimeoutMs: positive("SWITCHYARD_GATEWAY_CALL_TIMEOUT_MS", 30_000),
  configBatchMs: positive("SWITCHYARD_CONFIG_BATCH_MS", 250),
  gatewayMinVersion: Config.string("SWITCHYARD_GATEWAY_MIN_VERSION").pipe(
    Config.withDefault(DEFAULT_GATEWAY_MIN_VERSION),
    Config.validate({ message: "SWITCHYARD_GATEWAY_MIN_VERSION must be CalVer YYYY.M.D", validation: (text) => /^\d{4}\.\d{1,2}\.\d{1,2}$/.test(text) })
  ),
  syncConcurrency: positive("SWITCHYARD_SYNC_CONCURRENCY", 8),
  syncAgentTimeoutMs: positive("SWITCHYARD_SYNC_AGENT_TIMEOUT_MS", 180_000),
  transitionsKeepPerAgent: positive("SWITCHYARD_TRANSITIONS_KEEP_PER_AGENT", 500),
  inboxLeaseMs: positive("SWITCHYARD_INBOX_LEASE_MS", 60_000),
  dbAcquireTimeoutMs: positive("SWITCHYARD_DB_ACQUIRE_TIMEOUT_MS", 5_000),
  dbStatementTimeoutMs: positive("SWITCHYARD_DB_STATEMENT_TIMEOUT_MS", 10_000),
  dbStartupTimeoutMs: positive("SWITCHYARD_DB_STARTUP_TIMEOUT_MS", 30_000),
  // Set but empty (as compose files often leave it) means unset.
  otlpEndpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT")).pipe(
    Config.map((url) => Option.filter(Option.map(url, (text) => text.trim()), (text) => text !== "")),
    Config.validate({
      message: "OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, e.g. http://127.0.0.1:4318",
      validation: (url) => Option.match(url, { onNone: () => true, onSome: (text) => /^https?:\/\/\S+$/.test(text) })
    })
  ),
  otelServiceName: Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("switchyard")),
  runnerHost: Config.string("SWITCHYARD_RUNNER_HOST").pipe(
    Config.withDefault("127.0.0.1"),
    Config.validate({ message: "SWITCHYARD_RUNNER_HOST must be a host name or address", validation: (host) => /^[A-Za-z0-9.:_-]+$/.test(host) })
  ),
  runnerPort: Config.integer("SWITCHYARD_RUNNER_PORT").pipe(
    Config.withDefault(0),
    Config.validate({ message: "SWITCHYARD_RUNNER_PORT must be a port (1-65535), or 0 for a free one", validation: (port) => port >= 0 && port <= 65_535 })
  ),
  shardLockExpirationMs: positive("SWITCHYARD_SHARD_LOCK_EXPIRATION_MS", 35_000)
}).pipe(
  Config.map(({ baseUrl, ...rest }) => ({
    ...rest,
    baseUrl: Option.getOrElse(baseUrl, () => `http://127.0.0.1:${rest.port}`).replace(/\/+$/, "")
  }))
)

/** Reads the configuration from the environment. */
export const AppConfigLive = Layer.effect(AppConfig, Effect.map(appConfig, (config) => AppConfig.of(config)))

/** A config for tests: defaults overridden by `overrides`. */
export const AppConfigTest = (overrides: Partial<AppConfigShape> = {}) =>
  Layer.succeed(
    AppConfig,
    AppConfig.of({
      port: 0,
      databaseUrl: Option.none(),
      dataDir: ".switchyard-test",
      adminToken: Option.none(),
      secretKey: Option.some(Redacted.make(TEST_SECRET_KEY)),
      baseUrl: "http://127.0.0.1:8000",
      offlineAfterMs: 600_000,
      checkinTimeoutMs: 30_000,
      gatewayLostAfterMs: 90_000,
      // The configured floor alone, as before liveness: tests that time silence opt in to the factor.
      offlineFactor: 0,
      offlineGraceMs: 60_000,
      maxFailedRuns: 3,
      livenessProbeMs: 15_000,
      reconcileMs: 60_000,
      livenessWatchers: false,
      workspaceCheckMs: 0,
      maxWakeAttempts: 3,
      maxAttempts: 5,
      retryBaseMs: 2_000,
      gatewayCallTimeoutMs: 30_000,
      configBatchMs: 50,
      gatewayMinVersion: DEFAULT_GATEWAY_MIN_VERSION,
      syncConcurrency: 8,
      syncAgentTimeoutMs: 180_000,
      transitionsKeepPerAgent: 500,
      inboxLeaseMs: 60_000,
      dbAcquireTimeoutMs: 5_000,
      dbStatementTimeoutMs: 10_000,
      dbStartupTimeoutMs: 30_000,
      otlpEndpoint: Option.none(),
      otelServiceName: "switchyard",
      runnerHost: "127.0.0.1",
      runnerPort: 0,
      shardLockExpirationMs: 35_000,
      ...overrides
    })
  )
