import type { PgClientConfig } from "@effect/sql-pg/PgClient"
import { Duration, Effect, Redacted, type Scope } from "effect"
import pg from "pg"
import { PgListenerLost } from "./AgentStreamErrors.ts"

/** What the listener reports, called synchronously from the driver's events. */
export interface PgListenerHandlers {
  /**
   * LISTEN is in place: on the first connection and again after every reconnect. Notifications
   * sent while the connection was down are lost, so this is the moment to catch up. `nextXid` is
   * the first transaction id not yet assigned once it was in place (a snapshot's `xmax`): every
   * transaction that committed unheard has a smaller id.
   */
  readonly onListening: (nextXid: number) => void
  readonly onNotification: (payload: string) => void
}

/**
 * Delay before the next connection attempt after `failures` consecutive failed ones: 100 ms
 * doubling to 5 s, ±25 % jitter so that instances cut off together do not return together.
 */
export const listenerReconnectDelay = (failures: number): Duration.Duration =>
  Duration.millis(Math.round(Math.min(5_000, 100 * 2 ** Math.max(0, failures - 1)) * (0.75 + Math.random() * 0.5)))

/** A connection that silently died (no FIN, no RST) is found by a probe this often… */
const PROBE_EVERY = Duration.seconds(30)
/** …that must answer within this. */
const PROBE_TIMEOUT = Duration.seconds(10)

/** The listener's connection (`pg_stat_activity.application_name`). */
export const LISTENER_APPLICATION = "switchyard-listener"

/**
 * `pg` client settings for the listener, from the SQL client's own (`PgClient.config`: the
 * `DATABASE_URL` or the embedded server), so both always reach the same database.
 */
export const listenerConnection = (config: PgClientConfig): pg.ClientConfig => ({
  ...(config.url === undefined ? {} : { connectionString: Redacted.value(config.url) }),
  ...(config.host === undefined ? {} : { host: config.host }),
  ...(config.port === undefined ? {} : { port: config.port }),
  ...(config.database === undefined ? {} : { database: config.database }),
  ...(config.username === undefined ? {} : { user: config.username }),
  ...(config.password === undefined ? {} : { password: Redacted.value(config.password) }),
  ...(config.ssl === undefined ? {} : { ssl: config.ssl }),
  application_name: LISTENER_APPLICATION,
  keepAlive: true,
  connectionTimeoutMillis: 10_000
})

const ignore = () => {}

/** One connection: connect, LISTEN, report, then wait until it is lost (never succeeds). */
const session = (connection: pg.ClientConfig, channel: string, handlers: PgListenerHandlers): Effect.Effect<never, PgListenerLost, Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const client = new pg.Client(connection)
          // An 'error' event without a listener would crash the process.
          client.on("error", ignore)
          await client.connect()
          return client
        },
        catch: (cause) => new PgListenerLost({ phase: "connect", cause })
      }),
      (client) => Effect.promise(() => client.end().catch(ignore)).pipe(Effect.timeoutOption("1 second"))
    )
    client.on("notification", (message) => {
      if (message.channel === channel && message.payload !== undefined) handlers.onNotification(message.payload)
    })
    yield* Effect.tryPromise({
      try: () => client.query(`LISTEN ${pg.escapeIdentifier(channel)}`),
      catch: (cause) => new PgListenerLost({ phase: "listen", cause })
    })
    const next = yield* Effect.tryPromise({
      try: () => client.query<{ next: string }>("select pg_snapshot_xmax(pg_current_snapshot())::text as next"),
      catch: (cause) => new PgListenerLost({ phase: "listen", cause })
    })
    handlers.onListening(Number(next.rows[0]?.next))
    const lost = Effect.async<never, PgListenerLost>((resume) => {
      const onError = (cause: unknown) => resume(Effect.fail(new PgListenerLost({ phase: "listening", cause })))
      const onEnd = () => onError(new Error("the server closed the connection"))
      client.once("error", onError)
      client.once("end", onEnd)
      return Effect.sync(() => {
        client.off("error", onError)
        client.off("end", onEnd)
      })
    })
    const probe = Effect.tryPromise({ try: () => client.query("select 1"), catch: (cause) => new PgListenerLost({ phase: "listening", cause }) }).pipe(
      Effect.timeoutFail({ duration: PROBE_TIMEOUT, onTimeout: () => new PgListenerLost({ phase: "listening", cause: new Error("health probe timed out") }) })
    )
    const probing = Effect.sleep(PROBE_EVERY).pipe(Effect.zipRight(probe), Effect.forever)
    return yield* Effect.raceFirst(lost, probing)
  })

/**
 * Holds ONE dedicated Postgres connection that LISTENs on `channel` for as long as it runs
 * (fork it into a scope), and reconnects with `listenerReconnectDelay` whenever the connection
 * cannot be opened or is lost. A dedicated `pg.Client` rather than `PgClient.listen`, whose
 * shared listen connection swallows its errors and never comes back after a drop. Never fails.
 */
export const runPgListener = (connection: pg.ClientConfig, channel: string, handlers: PgListenerHandlers): Effect.Effect<never> => {
  const attempt = (failures: number): Effect.Effect<never> =>
    Effect.scoped(session(connection, channel, handlers)).pipe(
      Effect.catchAll((lost) => {
        // A connection that got as far as listening was healthy: start the backoff afresh.
        const next = lost.phase === "listening" ? 1 : failures + 1
        const delay = listenerReconnectDelay(next)
        return Effect.logWarning(`change listener on ${channel}: ${lost.phase} failed; reconnecting in ${Duration.toMillis(delay)} ms`, lost.cause).pipe(
          Effect.zipRight(Effect.sleep(delay)),
          Effect.zipRight(Effect.suspend(() => attempt(next)))
        )
      })
    )
  return attempt(0)
}
