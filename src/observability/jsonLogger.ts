import { Context, FiberRef, FiberRefs, Inspectable, Logger, Option, Tracer } from "effect"

/** Keys under which code may annotate an id (`Effect.annotateLogs`, span attributes). */
const ID_KEYS = { agent_id: ["agent_id", "agentId"], gateway_id: ["gateway_id", "gatewayId"] } as const
type IdName = keyof typeof ID_KEYS

/** An id in a request path: `/api/v1/agents/<uuid>…`, `/api/v1/gateways/<uuid>…`. */
const PATH_IDS: ReadonlyArray<readonly [RegExp, IdName]> = [
  [/^\/api\/v1\/agents\/([0-9a-f-]{36})(?:\/|$)/i, "agent_id"],
  [/^\/api\/v1\/gateways\/([0-9a-f-]{36})(?:\/|$)/i, "gateway_id"]
]

interface Found {
  agent_id?: string
  gateway_id?: string
}

const idFrom = (read: (key: string) => unknown, found: Found) => {
  for (const name of Object.keys(ID_KEYS) as Array<IdName>) {
    if (found[name] !== undefined) continue
    for (const key of ID_KEYS[name]) {
      const value = read(key)
      if (typeof value === "string" && value !== "") found[name] = value
    }
  }
}

/** The ids the current span and its parents carry (nearest first), the request path included. */
const idsFromSpans = (span: Option.Option<Tracer.AnySpan>, found: Found) => {
  for (let current = span; Option.isSome(current); current = current.value._tag === "Span" ? current.value.parent : Option.none()) {
    if (current.value._tag !== "Span") break
    const attributes = current.value.attributes
    idFrom((key) => attributes.get(key), found)
    const path = attributes.get("url.path")
    if (typeof path !== "string") continue
    for (const [pattern, name] of PATH_IDS) {
      const match = pattern.exec(path)
      if (match?.[1] !== undefined && found[name] === undefined) found[name] = match[1].toLowerCase()
    }
  }
}

const detail = (value: unknown) => (value instanceof Error && !("toJSON" in value) ? { name: value.name, message: value.message } : value)

/**
 * One JSON object per line, flat for log processors: `time`, `level`, `message`, `trace_id` and
 * `span_id` of the current span (the HTTP request's, or a program's `Effect.fn` span), `agent_id`
 * and `gateway_id` where known (log annotations, span attributes, the request path), then the
 * other annotations, `spans` (log span durations, ms), `cause` and `fiber`.
 */
export const jsonLogger = Logger.make<unknown, string>((options) => {
  const structured = Logger.structuredLogger.log(options)
  const span = Context.getOption(FiberRefs.getOrDefault(options.context, FiberRef.currentContext), Tracer.ParentSpan)
  const found: Found = {}
  idFrom((key) => structured.annotations[key], found)
  idsFromSpans(span, found)
  const annotations = Object.fromEntries(
    Object.entries(structured.annotations).filter(([key]) => !ID_KEYS.agent_id.includes(key as never) && !ID_KEYS.gateway_id.includes(key as never))
  )
  const [text, ...details] = Array.isArray(structured.message) ? structured.message : [structured.message]
  return Inspectable.stringifyCircular({
    time: structured.timestamp,
    level: structured.logLevel.toLowerCase(),
    message: typeof text === "string" ? text : Inspectable.toStringUnknown(text),
    ...(details.length === 0 ? {} : { details: details.map(detail) }),
    ...(Option.isSome(span) ? { trace_id: span.value.traceId, span_id: span.value.spanId } : {}),
    ...found,
    ...annotations,
    ...(Object.keys(structured.spans).length === 0 ? {} : { spans: structured.spans }),
    ...(structured.cause === undefined ? {} : { cause: structured.cause }),
    fiber: structured.fiberId
  })
})

/** Replaces the default logger with `jsonLogger` on stdout (`npm start`). */
export const JsonLoggerLive = Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(jsonLogger))
