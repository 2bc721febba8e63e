import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Layer } from "effect"
import { AppConfigLive } from "./config/AppConfig.ts"
import { JsonLoggerLive } from "./observability/jsonLogger.ts"
import { ServiceLive } from "./ServiceLayer.ts"

/** Why the service stopped, in one sentence: the failure's own message. */
const reasonOf = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

/**
 * `npm start`: the service on `PORT`, on the embedded Postgres unless `DATABASE_URL` is set.
 * Logs are JSON lines on stdout (README "Operations"), instead of the runtime's pretty logger.
 * The JSON logger wraps the whole program, so a failure to start (bad config, no database)
 * is reported as a JSON line too, and the process exits with 1.
 */
const program = Layer.launch(ServiceLive.pipe(Layer.provide(AppConfigLive))).pipe(
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError(`switchyard stopped: ${reasonOf(cause)}`, cause)
  ),
  Effect.provide(JsonLoggerLive)
)

NodeRuntime.runMain(program, { disablePrettyLogger: true, disableErrorReporting: true })
