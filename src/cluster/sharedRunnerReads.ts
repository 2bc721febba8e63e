import { RunnerStorage } from "@effect/cluster"
import { Effect } from "effect"

type RunnerStorageShape = RunnerStorage.RunnerStorage["Type"]
type Runners = Effect.Effect.Success<RunnerStorageShape["getRunners"]>

/**
 * The engine's runner storage, with a read of the runners (`getRunners`) answered from the last
 * one when that is younger than `forMs`. The engine itself reads them once per assignment
 * refresh (1 s, longer than `forMs`, so its reads stay fresh); the runner watch
 * (pings every 2 s, fencing every 2–4 s, `RunnerReaper.ts`) and the sessionless-runner check mostly reuse the engine's
 * last read instead of sending their own. A write through this storage (`register`,
 * `unregister`, `setRunnerHealth`) drops the kept read, and a read that overlaps a write is not
 * kept, so this runner never reads its own change stale; another runner's change is seen at
 * most `forMs` later (docs/operations.md §7.1).
 */
export const sharedRunnerReads = (storage: RunnerStorageShape, forMs: number): RunnerStorageShape => {
  let last: { readonly at: number; readonly runners: Runners } | undefined
  // Counts writes begun and ended: a read keeps its answer only if no write began or ended while it was in flight.
  let writes = 0
  const forget = <A, E, R>(write: Effect.Effect<A, E, R>) =>
    Effect.suspend(() => {
      writes += 1
      last = undefined
      // Counted again as it ends: a read that began during the write may predate its commit.
      return Effect.ensuring(write, Effect.sync(() => void ((writes += 1), (last = undefined))))
    })
  return RunnerStorage.RunnerStorage.of({
    ...storage,
    getRunners: Effect.suspend(() => {
      const kept = last
      if (kept !== undefined && performance.now() - kept.at < forMs) return Effect.succeed(kept.runners)
      const at = performance.now()
      const writesBefore = writes
      return Effect.tap(storage.getRunners, (runners) => Effect.sync(() => void (writes === writesBefore && (last = { at, runners }))))
    }),
    register: (runner, healthy) => forget(storage.register(runner, healthy)),
    unregister: (address) => forget(storage.unregister(address)),
    setRunnerHealth: (address, healthy) => forget(storage.setRunnerHealth(address, healthy))
  })
}
