import { createServer } from "node:http"
import { HttpMiddleware, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Chunk, Context, Effect, Layer, Option, Tracer } from "effect"
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
import { exactEntries } from "./serve.ts"
import { systemHttp } from "./systemHttp.ts"

/** Every context's routes, each from its table (`<context>/http/<context>Http.ts`); an unexpected failure inside a handler is a JSON 500 (logged). */
export const router = HttpRouter.concatAll(systemHttp, inspectHttp, fleetHttp, livenessHttp, clusterHttp, agentsHttp, streamsHttp, messagesHttp, boardsHttp, syncHttp, inboxHttp, coordinationHttp).pipe(
  HttpRouter.catchAllCause((cause) =>
    Effect.logError("unhandled request failure", cause).pipe(
      Effect.as(HttpServerResponse.unsafeJson({ detail: "internal error" }, { status: 500 }))
    )
  )
)

/** The router with its `RouteNotFound` answered: the router itself raises it, so it is caught outside it. */
const routed = router.pipe(
  Effect.catchTag("RouteNotFound", () => Effect.succeed(HttpServerResponse.unsafeJson({ detail: "not found" }, { status: 404 })))
)

/** The handlers (as the router holds them, failures caught) of the entries a request names by exact path (`exactEntries`), by `METHOD /path`. */
const exact = new Map<string, Effect.Effect<HttpServerResponse.HttpServerResponse, never, Effect.Effect.Context<typeof routed>>>(
  Chunk.toReadonlyArray(router.routes)
    .filter((route) => exactEntries.has(`${route.method} ${route.path}`))
    .map((route): readonly [string, Effect.Effect<HttpServerResponse.HttpServerResponse, never, Effect.Effect.Context<typeof routed>>] => [`${route.method} ${route.path}`, route.handler as never])
)

/**
 * The app as served. A request for an entry with neither path parameters nor a query (a
 * heartbeat), with no query string, runs its handler at once, interruptible as the router runs
 * it; the router would copy the request's whole context and install it around the handler for a
 * route context it never reads. Every other request goes through the router.
 */
export const app = Effect.withFiberRuntime((fiber): typeof routed => {
  const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
  const handler = exact.get(`${request.method} ${request.url}`)
  if (handler === undefined) return routed
  const span = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
  if (Option.isSome(span) && span.value._tag === "Span") span.value.attribute("http.route", request.url)
  return Effect.interruptible(handler)
})

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
