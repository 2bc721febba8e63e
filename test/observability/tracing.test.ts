import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { ConfigProvider, Effect, Exit, Layer, Option, Tracer } from "effect"
import { describe, expect, it } from "vitest"
import { appConfig, AppConfigTest } from "../../src/config/AppConfig.ts"
import { otlpTracesUrl, tracingLayer } from "../../src/observability/otlpTracing.ts"
import { callerSpan, continueTrace, TracingLive, withSpanWhenExported } from "../../src/observability/tracing.ts"

const configFrom = (env: Record<string, string>) => Effect.runPromiseExit(Effect.withConfigProvider(appConfig, ConfigProvider.fromMap(new Map(Object.entries(env)))))

/** The tracer every span of a program under `layer` goes to. */
const tracerUnder = (layer: Layer.Layer<never>) => Effect.runPromise(Effect.scoped(Effect.tracer.pipe(Effect.provide(layer))))

describe("tracing configuration", () => {
  it("reads OTEL_EXPORTER_OTLP_ENDPOINT as optional (unset or empty: none) and OTEL_SERVICE_NAME with the default switchyard", async () => {
    const unset = await configFrom({})
    expect(Exit.isSuccess(unset) && unset.value.otlpEndpoint).toEqual(Option.none())
    expect(Exit.isSuccess(unset) && unset.value.otelServiceName).toBe("switchyard")
    const empty = await configFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: " " })
    expect(Exit.isSuccess(empty) && empty.value.otlpEndpoint).toEqual(Option.none())
    const set = await configFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: " http://collector:4318/ ", OTEL_SERVICE_NAME: "switchyard-eu" })
    expect(Exit.isSuccess(set) && set.value.otlpEndpoint).toEqual(Option.some("http://collector:4318/"))
    expect(Exit.isSuccess(set) && set.value.otelServiceName).toBe("switchyard-eu")
  })

  it("refuses an endpoint that is not an http(s) URL", async () => {
    expect(Exit.isFailure(await configFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }))).toBe(true)
  })

  it("sends traces to <endpoint>/v1/traces", () => {
    expect(otlpTracesUrl("http://collector:4318")).toBe("http://collector:4318/v1/traces")
    expect(otlpTracesUrl("http://collector:4318/")).toBe("http://collector:4318/v1/traces")
  })
})

describe("TracingLive", () => {
  it("installs nothing without an endpoint: spans stay with Effect's own tracer", async () => {
    const native = await Effect.runPromise(Effect.tracer)
    expect(await tracerUnder(TracingLive.pipe(Layer.provide(AppConfigTest())))).toBe(native)
  })

  it("installs the OpenTelemetry tracer when an endpoint is set", async () => {
    const native = await Effect.runPromise(Effect.tracer)
    const tracer = await tracerUnder(TracingLive.pipe(Layer.provide(AppConfigTest({ otlpEndpoint: Option.some("http://127.0.0.1:9") }))))
    expect(tracer).not.toBe(native)
  })
})

describe("callerSpan", () => {
  it("is the span of the fiber running at the call, and none outside any fiber", async () => {
    const inside = await Effect.runPromise(Effect.sync(callerSpan).pipe(Effect.withSpan("Caller.step")))
    expect(Option.map(inside, (span) => span._tag === "Span" && span.name)).toEqual(Option.some("Caller.step"))
    expect(callerSpan()).toEqual(Option.none())
  })

  it("is none in a fiber without a span", async () => {
    expect(await Effect.runPromise(Effect.sync(callerSpan))).toEqual(Option.none<Tracer.AnySpan>())
  })
})

describe("continueTrace", () => {
  /** A span of a caller whose work continues elsewhere (kept open, as a request still running). */
  const callerOf = Effect.makeSpan("Caller.request")

  it("leaves the effect as it is under Effect's own tracer: no span, no parent", async () => {
    const inside = await Effect.runPromise(
      Effect.flatMap(callerOf, (caller) => Effect.option(Effect.currentSpan).pipe(continueTrace(Option.some(caller), { span: "Agents.persistSnapshot", attributes: { agent_id: "a1" } })))
    )
    expect(inside).toEqual(Option.none())
  })

  it("with a tracer installed, runs the effect as a span in the caller's trace, or puts the attributes on its spans", async () => {
    const exporter = new InMemorySpanExporter()
    const program = Effect.gen(function* () {
      const caller = yield* callerOf
      yield* Effect.void.pipe(continueTrace(Option.some(caller), { span: "Agents.persistSnapshot", attributes: { agent_id: "a1" } }))
      yield* Effect.void.pipe(Effect.withSpan("gateway.agents.create"), continueTrace(Option.some(caller), { attributes: { agent_id: "a2" } }))
      yield* Effect.void.pipe(continueTrace(Option.none(), { span: "Agents.orphan", attributes: {} }))
      // Read before the layer ends: shutting the SDK down empties the in-memory exporter.
      return { caller, spans: [...exporter.getFinishedSpans()] }
    })
    const { caller, spans } = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(tracingLayer(() => new SimpleSpanProcessor(exporter), "switchyard-test")))))
    const byName = (name: string) => spans.find((span) => span.name === name)
    expect(byName("Agents.persistSnapshot")?.spanContext().traceId).toBe(caller.traceId)
    expect(byName("Agents.persistSnapshot")?.parentSpanContext?.spanId).toBe(caller.spanId)
    expect(byName("Agents.persistSnapshot")?.attributes["agent_id"]).toBe("a1")
    expect(byName("gateway.agents.create")?.parentSpanContext?.spanId).toBe(caller.spanId)
    expect(byName("gateway.agents.create")?.attributes["agent_id"]).toBe("a2")
    expect(byName("Agents.orphan")?.parentSpanContext).toBeUndefined()
  })
})

describe("withSpanWhenExported", () => {
  const spanNameInside = Effect.map(Effect.option(Effect.currentSpan), Option.map((span) => span.name))

  it("opens no span under Effect's own tracer: the effect runs under its caller's span", async () => {
    const inside = await Effect.runPromise(spanNameInside.pipe(withSpanWhenExported("gateway.health", { kind: "client" }), Effect.withSpan("Agents.apply")))
    expect(inside).toEqual(Option.some("Agents.apply"))
  })

  it("with a tracer installed, opens the span with its options", async () => {
    const exporter = new InMemorySpanExporter()
    const program = Effect.gen(function* () {
      const inside = yield* spanNameInside.pipe(withSpanWhenExported("gateway.health", { kind: "client", attributes: { "rpc.method": "health" } }))
      return { inside, spans: [...exporter.getFinishedSpans()] }
    })
    const { inside, spans } = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(tracingLayer(() => new SimpleSpanProcessor(exporter), "switchyard-test")))))
    expect(inside).toEqual(Option.some("gateway.health"))
    expect(spans.find((span) => span.name === "gateway.health")?.attributes["rpc.method"]).toBe("health")
  })
})
