import { RunnerHealth, RunnerStorage } from "@effect/cluster"
import { Effect } from "effect"
import { addressText } from "./GatewayOwnership.ts"

/**
 * One pass over the runners in the engine's storage: another runner that does not answer a ping
 * (the engine's `RunnerHealth`) is marked unhealthy, so its shards are reassigned now rather than
 * when its heartbeat expires (a runner restarted after a crash on another port, or a SIGKILLed
 * one); an unhealthy runner that answers again is marked healthy. The engine's own check runs on
 * one runner once a minute; this one runs on every runner every few seconds
 * (docs/operations.md "Cluster"). Storage errors are logged and the pass ends.
 */
export const reapUnreachableRunners = (self: string) =>
  Effect.gen(function* () {
    const storage = yield* RunnerStorage.RunnerStorage
    const health = yield* RunnerHealth.RunnerHealth
    const runners = yield* storage.getRunners
    yield* Effect.forEach(
      runners.filter(([runner]) => addressText(runner.address) !== self),
      ([runner, healthy]) =>
        Effect.flatMap(health.isAlive(runner.address), (alive) =>
          alive === healthy
            ? Effect.void
            : Effect.zipRight(
                Effect.logInfo(`runner ${addressText(runner.address)} is ${alive ? "reachable again" : "unreachable"}; marking it ${alive ? "healthy" : "unhealthy"}`),
                storage.setRunnerHealth(runner.address, alive)
              )
        ),
      { discard: true, concurrency: "unbounded" }
    )
  }).pipe(Effect.catchAll((error) => Effect.logWarning("runner health pass failed", error)))
