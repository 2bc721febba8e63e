import { NodeSdk } from "@effect/opentelemetry"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Layer } from "effect"

/** The OTLP/HTTP traces URL under a base endpoint: `<endpoint>/v1/traces`. */
export const otlpTracesUrl = (endpoint: string) => `${endpoint.replace(/\/+$/, "")}/v1/traces`

/**
 * Installs the OpenTelemetry tracer: every Effect span of the service (HTTP requests, `Effect.fn`
 * programs, gateway RPCs, SQL statements, snapshot writes) goes to `processor`, under the
 * resource `service.name` = `serviceName`. The provider is flushed and shut down with the layer.
 */
export const tracingLayer = (processor: () => SpanProcessor, serviceName: string): Layer.Layer<never> =>
  Layer.discard(NodeSdk.layer(() => ({ resource: { serviceName }, spanProcessor: processor() })))

/** Spans batched (the SDK's defaults, `OTEL_BSP_*`) to the collector at `endpoint` as OTLP/HTTP JSON. */
export const otlpTracingLayer = (endpoint: string, serviceName: string): Layer.Layer<never> =>
  tracingLayer(() => new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(endpoint) })), serviceName)
