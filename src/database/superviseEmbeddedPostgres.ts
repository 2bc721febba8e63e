import { readFile } from "node:fs/promises"
import path from "node:path"
import { Duration, Effect, Option, Schedule } from "effect"

/** Restart attempts of a dead embedded Postgres: 250 ms doubling, jittered, at most 5 s apart, never giving up. */
export const embeddedRestart = Schedule.exponential("250 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")), Schedule.jittered)

/** The postmaster's pid: the first line of `<dataDir>/postmaster.pid`, written once it runs. */
const postmasterPid = (dataDir: string) =>
  Effect.tryPromise(() => readFile(path.join(dataDir, "postmaster.pid"), "utf8")).pipe(
    Effect.map((text) => Number.parseInt(text.split("\n")[0] ?? "", 10)),
    Effect.map((pid) => (Number.isSafeInteger(pid) && pid > 0 ? Option.some(pid) : Option.none<number>())),
    Effect.orElseSucceed(() => Option.none<number>())
  )

/** Signal 0 probes a process: `ESRCH` means gone; `EPERM` means it exists under another user. */
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

export interface SuperviseOptions<E> {
  /** The cluster's data directory (holds `postmaster.pid`). */
  readonly dataDir: string
  /** Starts the server again on its old port; resolves once it accepts connections. */
  readonly start: Effect.Effect<void, E>
  /** How often the postmaster is checked, ms (default 250). */
  readonly pollMs?: number
}

/**
 * Supervises a running embedded Postgres in the background of the current scope: every
 * `pollMs` it checks that the postmaster process still exists (a stopped process counts as
 * alive; a hung server shows in `/readyz` and in statement timeouts instead). When it is gone
 * it logs a warning with the reason and calls `start` again on `embeddedRestart` until the
 * server is back, logging each failed attempt and the downtime (ms) once restarted.
 */
export const superviseEmbeddedPostgres = <E extends { readonly message: string }>(options: SuperviseOptions<E>) => {
  const poll = Duration.millis(options.pollMs ?? 250)
  const waitForExit = (pid: number) => Effect.sleep(poll).pipe(Effect.repeat({ until: () => !isAlive(pid) }))
  const restart = (pid: number) =>
    Effect.gen(function* () {
      const downSince = Date.now()
      yield* Effect.logWarning("embedded Postgres exited; restarting it").pipe(
        Effect.annotateLogs({ reason: `postmaster process ${pid} is gone`, pid })
      )
      yield* options.start.pipe(
        Effect.tapError((error) => Effect.logWarning("embedded Postgres restart failed; retrying").pipe(Effect.annotateLogs({ reason: error.message }))),
        Effect.retry(embeddedRestart),
        Effect.orDie // embeddedRestart never ends
      )
      yield* Effect.logInfo("embedded Postgres restarted").pipe(Effect.annotateLogs({ down_ms: Date.now() - downSince }))
    })
  const watch: Effect.Effect<void> = Effect.gen(function* () {
    const pid = yield* postmasterPid(options.dataDir)
    if (Option.isNone(pid)) return yield* Effect.sleep(poll)
    yield* waitForExit(pid.value)
    yield* restart(pid.value)
  })
  return Effect.forkScoped(Effect.forever(watch)).pipe(Effect.asVoid)
}
