import { RunnerStorage } from "@effect/cluster"
import { Effect } from "effect"
import { addressText } from "./GatewayOwnership.ts"
import { connectedSessionNames } from "../store/connectedSessionNames.ts"

/**
 * At a runner's start: another runner stored healthy that has no engine session in Postgres
 * (`application_name` `sessionPrefix` + `host:port`, `RUNNER_SESSION_PREFIX`) is marked unhealthy at once, without a ping
 * (the engine's ping retries for 2.5 s before it gives up on a dead address). A live runner keeps
 * its lock session for as long as it runs (the engine rebuilds it when lost), and a runner
 * without one holds no shard lock, so moving its shards takes nothing from a live owner; if it
 * is alive after all, the 2-second ping pass marks it healthy again. Once joined (`joined`, the
 * default), as the reaper, only a runner stored healthy marks others; before the engine starts
 * (`joined` false, `ClusterLive`) the verdict rests on the database alone, which this runner
 * reaches, so it marks them too, and its first shard assignment leaves out dead runners. Answers
 * how many other runners are still stored healthy (docs/architecture.md §11). Storage or
 * database errors answer -1 (unknown).
 */
export const markSessionlessRunnersUnhealthy = (self: string, sessionPrefix: string, joined = true) =>
  Effect.gen(function* () {
    const storage = yield* RunnerStorage.RunnerStorage
    const runners = yield* storage.getRunners
    if (joined && !runners.some(([runner, healthy]) => healthy && addressText(runner.address) === self)) return -1
    const others = runners.filter(([runner, healthy]) => healthy && addressText(runner.address) !== self)
    if (others.length === 0) return 0
    // Postgres keeps the first 63 bytes of an application_name (NAMEDATALEN - 1): compare as it does.
    const connected = yield* connectedSessionNames(sessionPrefix)
    let left = 0
    for (const [runner] of others) {
      const address = addressText(runner.address)
      if (connected.has(`${sessionPrefix}${address}`.slice(0, 63))) {
        left += 1
        continue
      }
      yield* Effect.logInfo(`runner ${address} has no database session: marking it unhealthy`)
      yield* storage.setRunnerHealth(runner.address, false)
    }
    return left
  }).pipe(Effect.catchAll((error) => Effect.as(Effect.logWarning("checking other runners' sessions failed", error), -1)))
