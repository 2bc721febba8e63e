import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { AppConfigLive } from "./config/AppConfig.ts"
import { ServiceLive } from "./ServiceLayer.ts"

/** `npm start`: the service on `PORT`, on the embedded Postgres unless `DATABASE_URL` is set. */
NodeRuntime.runMain(Layer.launch(ServiceLive.pipe(Layer.provide(AppConfigLive))))
