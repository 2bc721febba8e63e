import { HttpMiddleware, HttpServerError, HttpServerRequest, type HttpApp } from "@effect/platform"
import { Context, Effect, FiberRef, List, LogSpan } from "effect"

/**
 * The request log (docs/operations.md §3.3): per answer one `Sent HTTP response` line with
 * `http.method`, `http.url`, `http.status` and the request's duration as its log span
 * (`http.span.<n>`), or the failure's cause, as `HttpMiddleware.logger` writes it; an answer
 * whose handler set `HttpMiddleware.loggerDisabled` (an entry's `unlogged`) writes none.
 *
 * Unlike the platform's middleware, the request runs without a log span installed around it:
 * the start is read once and the span given to the request's own line only. Installing and
 * restoring a fiber-local span cost every request (a heartbeat: thousands a second, none
 * logged) more than the rest of this middleware; lines logged inside a handler carry no
 * `http.span`.
 */
export const requestLogger = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => {
  let counter = 0
  return Effect.clockWith((clock) =>
    Effect.withFiberRuntime((fiber) => {
      const startedAt = clock.unsafeCurrentTimeMillis()
      const label = `http.span.${++counter}`
      return Effect.flatMap(Effect.exit(app), (exit) => {
        if (fiber.getFiberRef(HttpMiddleware.loggerDisabled)) return exit
        const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
        const [message, status] = ((): readonly [unknown, number] => {
          if (exit._tag === "Success") return ["Sent HTTP response", exit.value.status]
          const [response, cause] = HttpServerError.causeResponseStripped(exit.cause)
          return [cause._tag === "Some" ? cause.value : "Sent HTTP Response", response.status]
        })()
        const line = Effect.annotateLogs(Effect.log(message), { "http.method": request.method, "http.url": request.url, "http.status": status })
        return Effect.zipRight(Effect.locallyWith(line, FiberRef.currentLogSpan, List.prepend(LogSpan.make(label, startedAt))), exit)
      })
    })
  )
}
