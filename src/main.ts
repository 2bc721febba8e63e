import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { AppConfigLive } from "./config/AppConfig.ts"
import { JsonLoggerLive } from "./observability/jsonLogger.ts"
import { ServiceLive } from "./ServiceLayer.ts"

/**
 * `npm start`: the service on `PORT`, on the embedded Postgres unless `DATABASE_URL` is set.
 * Logs are JSON lines on stdout (README "Operations"), instead of the runtime's pretty logger.
 */
NodeRuntime.runMain(Layer.launch(ServiceLive.pipe(Layer.provide(AppConfigLive), Layer.provide(JsonLoggerLive))), { disablePrettyLogger: true })
