import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { gunzipSync } from "node:zlib"

/** One exported span as the receiver saw it (OTLP/JSON, ids in hex). */
export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly serviceName: string | undefined
  readonly attributes: Readonly<Record<string, unknown>>
}

interface OtlpValue {
  readonly stringValue?: string
  readonly intValue?: string | number
  readonly boolValue?: boolean
  readonly doubleValue?: number
}
interface OtlpAttribute {
  readonly key: string
  readonly value: OtlpValue
}
interface OtlpTraces {
  readonly resourceSpans?: ReadonlyArray<{
    readonly resource?: { readonly attributes?: ReadonlyArray<OtlpAttribute> }
    readonly scopeSpans?: ReadonlyArray<{
      readonly spans?: ReadonlyArray<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: ReadonlyArray<OtlpAttribute> }>
    }>
  }>
}

const valueOf = (value: OtlpValue): unknown => value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue
const attributesOf = (list: ReadonlyArray<OtlpAttribute> | undefined) => Object.fromEntries((list ?? []).map((attribute) => [attribute.key, valueOf(attribute.value)]))

const bodyOf = async (request: IncomingMessage) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks)
  return request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw
}

/**
 * An OTLP/HTTP traces receiver on 127.0.0.1 (JSON bodies only): `url` is the base endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`), `spans` every span posted to `<url>/v1/traces` so far.
 */
export const startOtlpReceiver = async () => {
  const spans: Array<ReceivedSpan> = []
  const rejected: Array<string> = []
  const server = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      if (request.method !== "POST" || request.url !== "/v1/traces" || !String(request.headers["content-type"]).startsWith("application/json")) {
        rejected.push(`${request.method} ${request.url} ${request.headers["content-type"]}`)
        response.writeHead(415).end()
        return
      }
      const traces = JSON.parse(body.toString("utf8")) as OtlpTraces
      for (const resource of traces.resourceSpans ?? []) {
        const serviceName = attributesOf(resource.resource?.attributes)["service.name"]
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId === "" ? undefined : span.parentSpanId,
              name: span.name,
              serviceName: typeof serviceName === "string" ? serviceName : undefined,
              attributes: attributesOf(span.attributes)
            })
          }
        }
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    rejected,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
