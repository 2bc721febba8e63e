import { Effect, Fiber, Layer, Option, type Tracer } from "effect"
import { AppConfig } from "../config/AppConfig.ts"

/**
 * Traces over OTLP/HTTP (JSON) to `OTEL_EXPORTER_OTLP_ENDPOINT` (README "Operations"). Without
 * the variable no layer is installed at all, and the OpenTelemetry SDK is not even loaded:
 * Effect's own tracer stays, nothing is exported.
 */
export const TracingLive: Layer.Layer<never, never, AppConfig> = Layer.unwrapEffect(
  Effect.flatMap(AppConfig, (config) =>
    Option.match(config.otlpEndpoint, {
      onNone: () => Effect.succeed(Layer.empty),
      onSome: (endpoint) => Effect.promise(() => import("./otlpTracing.ts")).pipe(Effect.map((sdk) => sdk.otlpTracingLayer(endpoint, config.otelServiceName)))
    })
  )
)

/**
 * The span of the fiber running at this instant, if any. Work forked from a synchronous callback
 * (an XState actor invoked, or a snapshot offered, during an HTTP request's transition) passes it
 * to `continueTrace`, so it joins the caller's trace instead of starting its own.
 */
export const callerSpan = (): Option.Option<Tracer.AnySpan> =>
  Option.flatMap(Fiber.getCurrentFiber(), (fiber) => Option.fromNullable(fiber.currentSpan))

/** Effect's own tracer: what every fiber has unless `TracingLive` installed another. */
const nativeTracer = Effect.runSync(Effect.tracer)

/**
 * Runs `effect` in the trace of `parent` (when there is one): as a span `span` with `attributes`,
 * or, without `span`, with `attributes` on every span it opens. Only while spans are exported;
 * under Effect's own tracer `effect` runs unchanged, so tracing switched off costs nothing.
 */
export const continueTrace =
  (parent: Option.Option<Tracer.AnySpan>, options: { readonly span?: string; readonly attributes: Readonly<Record<string, unknown>> }) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.tracer, (tracer) => {
      if (tracer === nativeTracer) return effect
      const traced = options.span === undefined ? Effect.annotateSpans(effect, options.attributes) : Effect.withSpan(effect, options.span, { attributes: options.attributes })
      return Option.isSome(parent) ? Effect.withParentSpan(traced, parent.value) : traced
    })

/**
 * `Effect.withSpan(name, options)` only while spans are exported; under Effect's own tracer
 * `effect` runs unchanged. For a span per hot call (one per gateway RPC) that nothing reads when
 * tracing is off: a span opened under Effect's own tracer costs tens of µs (its context copied),
 * more than the call's own bookkeeping (docs/architecture.md §5.6).
 */
export const withSpanWhenExported =
  (name: string, options: Tracer.SpanOptions) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.tracer, (tracer) => (tracer === nativeTracer ? effect : Effect.withSpan(effect, name, options)))

/** Whether spans are exported (a tracer other than Effect's own is installed), so a span per write is worth its fiber. */
export const tracesExported: Effect.Effect<boolean> = Effect.map(Effect.tracer, (tracer) => tracer !== nativeTracer)
