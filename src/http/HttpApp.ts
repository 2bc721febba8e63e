import { createServer } from "node:http"
import { HttpMiddleware, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { agentsHttp } from "../agents/http/agentsHttp.ts"
import { boardsHttp } from "../boards/http/boardsHttp.ts"
import { clusterHttp } from "../cluster/http/clusterHttp.ts"
import { coordinationHttp } from "../coordination/http/coordinationHttp.ts"
import { fleetHttp } from "../fleet/http/fleetHttp.ts"
import { inboxHttp } from "../inbox/http/inboxHttp.ts"
import { inspectHttp } from "../inspect/http/inspectHttp.ts"
import { livenessHttp } from "../liveness/http/livenessHttp.ts"
import { messagesHttp } from "../messages/http/messagesHttp.ts"
import { streamsHttp } from "../streams/http/streamsHttp.ts"
import { syncHttp } from "../sync/http/syncHttp.ts"
import { AdminToken } from "./auth.ts"
import { resolveAdminToken } from "./adminToken.ts"
import { AuthFailureLimiterLive } from "./AuthFailureLimiter.ts"
import { requestLogger } from "./requestLogger.ts"
import { systemHttp } from "./systemHttp.ts"

/** Every context's routes, each from its table (`<context>/http/<context>Http.ts`); an unexpected failure inside a handler is a JSON 500 (logged). */
export const router = HttpRouter.concatAll(systemHttp, inspectHttp, fleetHttp, livenessHttp, clusterHttp, agentsHttp, streamsHttp, messagesHttp, boardsHttp, syncHttp, inboxHttp, coordinationHttp).pipe(
  HttpRouter.catchAllCause((cause) =>
    Effect.logError("unhandled request failure", cause).pipe(
      Effect.as(HttpServerResponse.unsafeJson({ detail: "internal error" }, { status: 500 }))
    )
  )
)

/** The router as served: the router itself raises `RouteNotFound`, so it is caught outside it. */
export const app = router.pipe(
  Effect.catchTag("RouteNotFound", () => Effect.succeed(HttpServerResponse.unsafeJson({ detail: "not found" }, { status: 404 })))
)

export const AdminTokenLive = Layer.effect(AdminToken, resolveAdminToken)

/**
 * The HTTP server on `PORT`, serving the router with request logging (`requestLogger`). A request is a server span
 * only while spans are exported (`OTEL_EXPORTER_OTLP_ENDPOINT`, docs/operations.md "Tracing"):
 * otherwise the platform's tracer would still build a span per request (its URL parsed, every
 * header an attribute) that nothing reads.
 */
export const HttpLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => {
    const served = HttpServer.serve(app, requestLogger)
    return (Option.isSome(config.otlpEndpoint) ? served : HttpMiddleware.withTracerDisabledWhen(served, () => true)).pipe(
      HttpServer.withLogAddress,
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: config.port, host: "0.0.0.0" }))
    )
  })
).pipe(Layer.provide(Layer.mergeAll(AdminTokenLive, AuthFailureLimiterLive)))
