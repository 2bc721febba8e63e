import { type Runner, RunnerHealth, RunnerStorage } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { RUNNER_SESSION_PREFIX } from "./ClusterLive.ts"
import { addressText } from "./GatewayOwnership.ts"

/**
 * One pass over the runners in the engine's storage: another runner that does not answer a ping
 * (the engine's `RunnerHealth`) is marked unhealthy, so its shards are reassigned now rather than
 * when its heartbeat expires (a runner restarted after a crash on another port, or a SIGKILLed
 * one); an unhealthy runner that answers again is marked healthy. The engine's own check runs on
 * one runner once a minute; this one runs on every runner every few seconds
 * (docs/operations.md "Cluster"). Only a runner stored healthy marks others unhealthy, and never
 * itself, so, as in the engine's check, the last healthy runner is never marked unhealthy; a runner
 * stored unhealthy is the likelier one to be cut off, so one that reaches the database but not its
 * peers cannot mark the whole cluster unhealthy. Storage errors are logged and the pass ends.
 */
export const reapUnreachableRunners = (self: string) =>
  Effect.flatMap(RunnerStorage.RunnerStorage, (storage) => storage.getRunners).pipe(
    Effect.flatMap((runners) => reapAmong(self, runners)),
    Effect.catchAll((error) => Effect.logWarning("runner health pass failed", error))
  )

/** `reapUnreachableRunners` over runners already read (`[runner, healthy]`, as the engine's storage answers them). */
const reapAmong = (self: string, runners: ReadonlyArray<readonly [Runner.Runner, boolean]>) =>
  Effect.gen(function* () {
    const storage = yield* RunnerStorage.RunnerStorage
    const health = yield* RunnerHealth.RunnerHealth
    const selfHealthy = runners.some(([runner, healthy]) => healthy && addressText(runner.address) === self)
    const verdicts = yield* Effect.forEach(
      runners.filter(([runner]) => addressText(runner.address) !== self),
      ([runner, healthy]) =>
        // A runner that does not answer within 5 s is not alive (a hung one would hold the pass for a minute).
        health.isAlive(runner.address).pipe(
          Effect.timeoutTo({ duration: "5 seconds", onTimeout: () => false, onSuccess: (alive) => alive }),
          Effect.map((alive) => ({ runner, healthy, alive }))
        ),
      { concurrency: "unbounded" }
    )
    for (const { runner, healthy, alive } of verdicts) {
      if (alive === healthy) continue
      const address = addressText(runner.address)
      if (!alive && !selfHealthy) {
        yield* Effect.logWarning(`runner ${address} is unreachable but left healthy: this runner is itself marked unhealthy`)
        continue
      }
      yield* Effect.logInfo(`runner ${address} is ${alive ? "reachable again" : "unreachable"}; marking it ${alive ? "healthy" : "unhealthy"}`)
      yield* storage.setRunnerHealth(runner.address, alive)
    }
  })

/**
 * Fences runners that stopped heartbeating (a hung or partitioned process whose heartbeat is older
 * than the shard-lock expiry, so the engine no longer lists it): their engine sessions
 * (`application_name` `switchyard-runner@host:port`, connected for longer than the expiry) are
 * terminated, which frees the advisory locks they hold, so another runner takes their gateways.
 * Without it a hung runner would keep its shards for as long as its sessions stay open
 * (docs/operations.md §7.3). A live runner heartbeats well within the expiry and is never fenced.
 * `runners`: the engine's live runners, as its storage answers them.
 */
const fenceStaleRunners = (self: string, expirationMs: number, runners: ReadonlyArray<readonly [Runner.Runner, boolean]>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const live = runners.map(([runner]) => `${RUNNER_SESSION_PREFIX}${addressText(runner.address)}`)
    // Postgres keeps the first 63 bytes of an application_name (NAMEDATALEN - 1): compare as it does.
    const keep = [...live, `${RUNNER_SESSION_PREFIX}${self}`].map((name) => name.slice(0, 63))
    const fenced = yield* sql<{ applicationName: string }>`
      select application_name, pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and starts_with(application_name, ${RUNNER_SESSION_PREFIX})
        and application_name not in ${sql.in(keep)} and backend_start < now() - ${expirationMs} * interval '1 millisecond'`
    for (const name of new Set(fenced.map((row) => row.applicationName))) {
      yield* Effect.logWarning(`runner ${name.slice(RUNNER_SESSION_PREFIX.length)} stopped heartbeating: its database sessions were terminated so its shards can move`)
    }
  })

/**
 * How often a runner fences, ms: a hung runner is fenced only once its heartbeat is older than the
 * lock expiry, so fencing up to a seventh of the expiry (and 5 s at most) after that adds little
 * to its takeover, in whole passes of the ping loop (`passMs`): every 4 s with the default 35 s
 * expiry and 2 s passes, every 2 s below 28 s (docs/operations.md §7.3).
 */
export const fencePeriodMs = (expirationMs: number, passMs: number) =>
  passMs * Math.max(1, Math.min(Math.floor(5_000 / passMs), Math.floor(expirationMs / 7 / passMs)))

/** How often a fencing pass sends its statement when no runner left the engine's list (ms): the fallback for sessions of a runner never listed here. */
export const FENCE_FALLBACK_MS = 60_000

/**
 * The fencing pass (stateful: call once, repeat the Effect): the runners are read from the
 * engine's storage (mostly its own last read, `sharedRunnerReads`) and the stale ones fenced
 * (`fenceStaleRunners`), but its statement is sent only when due: on the first pass, on every
 * pass for `expirationMs` after a runner listed at the previous pass is no longer listed (a hung
 * runner leaves the list once its heartbeat is older than the expiry: fenced on that pass, as
 * before), and otherwise every FENCE_FALLBACK_MS, so a settled runner sends it once a minute, not
 * every pass. It runs in a loop of its own, every `fencePeriodMs`, apart from the pings
 * (`reapUnreachableRunners`), which a hung peer holds up to their 5 s timeout (docs/operations.md
 * §7.3). Errors are logged, the pass ends, and the next one is due. `now`: monotonic ms
 * (`performance.now()` by default: a step of the wall clock neither delays nor hastens a statement).
 */
export const fenceStaleRunnersPass = (self: string, expirationMs: number, now: () => number = () => performance.now()) => {
  /** The runners listed at the previous pass. */
  let listed: ReadonlySet<string> | undefined
  let armedUntil = Number.NEGATIVE_INFINITY
  let fencedAt = Number.NEGATIVE_INFINITY
  return Effect.flatMap(RunnerStorage.RunnerStorage, (storage) => storage.getRunners).pipe(
    Effect.flatMap((runners) =>
      Effect.suspend(() => {
        const at = now()
        const current = new Set(runners.map(([runner]) => addressText(runner.address)))
        if (listed !== undefined && [...listed].some((address) => !current.has(address))) armedUntil = at + expirationMs
        listed = current
        if (at > armedUntil && at - fencedAt < FENCE_FALLBACK_MS) return Effect.void
        return Effect.tap(fenceStaleRunners(self, expirationMs, runners), () => Effect.sync(() => void (fencedAt = at)))
      })
    ),
    Effect.catchAll((error) => Effect.logWarning("fencing stale runners failed", error))
  )
}
