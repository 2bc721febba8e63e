import { sample } from "openapi-sampler"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { createFleet, issueInboxKey, type Fleet } from "../http/agentFleet.ts"

/**
 * Schema-driven fuzzing of every operation in `/openapi.json`: for each operation, each
 * credential its `security` accepts, and each parameter and body field, one request with that
 * one input made bad (wrong types, missing fields, huge strings, NUL and lone surrogates, bad
 * UUIDs and URLs, bad query values) and everything else valid (a required-only sample from
 * openapi-sampler). Bad input is a 4xx: no 5xx, and every request is answered.
 *
 * Destructive operations (deletes, key rotation, retries, template sync, onboarding start) get a
 * well-formed id that names nothing, so the fleet stays whole for the rest of the run.
 */
type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
interface Schema {
  readonly $ref?: string
  readonly type?: string | ReadonlyArray<string>
  readonly properties?: Readonly<Record<string, Schema>>
  readonly required?: ReadonlyArray<string>
  readonly items?: Schema
  readonly anyOf?: ReadonlyArray<Schema>
  readonly oneOf?: ReadonlyArray<Schema>
  readonly allOf?: ReadonlyArray<Schema>
}
interface Parameter {
  readonly in: "path" | "query" | "header"
  readonly name: string
  readonly required?: boolean
  readonly schema?: Schema
}
interface Operation {
  readonly security?: ReadonlyArray<Record<string, ReadonlyArray<string>>>
  readonly parameters?: ReadonlyArray<Parameter>
  readonly requestBody?: { readonly content?: { readonly "application/json"?: { readonly schema?: Schema } } }
}
interface Document {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> }
}

interface Case {
  readonly operation: string
  readonly credential: string
  readonly mutation: string
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string
}

const METHODS = ["get", "put", "post", "delete", "patch"] as const
/** Longer than any field allows (the longest take 100,000 characters). */
const HUGE = "x".repeat(120_000)
/** Bad values for any JSON field: wrong types, hostile text, bad ids and URLs. */
const BAD_VALUES: ReadonlyArray<readonly [string, Json]> = [
  ["null", null],
  ["number", 12345],
  ["negative", -1],
  ["boolean", true],
  ["array", ["a"]],
  ["object", { a: 1 }],
  ["empty string", ""],
  ["blank string", "   "],
  ["NUL", "a\u0000b"],
  ["lone surrogate", "a\ud800b"],
  ["huge string", HUGE],
  ["bad uuid", "not-a-uuid"],
  ["bad url", "not a url"],
  ["url without host", "ws://"],
  ["control characters", "a\u0001\u001f\u007f"]
]
/** Bad items for array fields. */
const BAD_ITEMS = BAD_VALUES.filter(([label]) => ["null", "number", "object", "NUL", "lone surrogate", "huge string", "bad uuid"].includes(label))
/** Bad values for path segments (already URL-encoded). */
const BAD_SEGMENTS: ReadonlyArray<readonly [string, string]> = [
  ["bad uuid", "not-a-uuid"],
  ["NUL", "a%00b"],
  ["invalid utf-8", "%ED%A0%80"],
  ["stray percent", "%"],
  ["huge", "x".repeat(6_000)],
  ["dot segments", "..%2F..%2Fetc"]
]
/** Bad values for query parameters (already URL-encoded). */
const BAD_QUERY: ReadonlyArray<readonly [string, string]> = [
  ["empty", ""],
  ["word", "abc"],
  ["negative", "-1"],
  ["overflow", "1e309"],
  ["NaN", "NaN"],
  ["big integer", "99999999999999999999"],
  ["fraction", "1.5"],
  ["NUL", "a%00b"],
  ["invalid utf-8", "%ED%A0%80"],
  ["stray percent", "%"],
  ["huge", "x".repeat(6_000)],
  ["bad uuid", "not-a-uuid"]
]
const BAD_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["empty", ""],
  ["huge", "x".repeat(6_000)],
  ["spaces", "a b c"],
  ["latin-1", "\u00e9\u00ff"]
]
/** Whole bodies that are not the object the operation wants. */
const BAD_BODIES: ReadonlyArray<readonly [string, string | undefined]> = [
  ["no body", undefined],
  ["invalid JSON", "{"],
  ["JSON null", "null"],
  ["JSON array", "[]"],
  ["JSON string", '"a"'],
  ["JSON number", "1"],
  ["deep nesting", `${"[".repeat(5_000)}${"]".repeat(5_000)}`],
  ["lone surrogate escape", '{"\\ud800":"\\udc00"}'],
  ["NUL escape", '{"a\\u0000":"b"}']
]
/** Operations whose side effect would change the fleet under the run: their ids name nothing. */
const DESTRUCTIVE = /^(DELETE |POST \/api\/v1\/agents\/\{id\}\/(api-key|retry)$|POST \/api\/v1\/gateways\/\{id\}\/templates\/sync$|POST \/api\/v1\/boards\/\{id\}\/onboarding\/start$)/
const REQUEST_TIMEOUT_MS = 20_000
const CONCURRENCY = 6

describe("fuzzing every operation of /openapi.json with bad input", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let fleet: Fleet
  let inboxKey: string

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50 })
    fleet = await createFleet(service, simulator)
    inboxKey = await issueInboxKey(service, fleet.agents.ada.id)
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("answers every bad request with a 4xx (never a 5xx, never silence)", async () => {
    const response = await fetch(`${service.url}/openapi.json`)
    const document = (await response.json()) as Document
    const cases = buildCases(document, fleet, inboxKey)
    const operations = new Set(cases.map((entry) => entry.operation))
    expect(operations.size).toBe(Object.values(document.paths).reduce((count, item) => count + METHODS.filter((method) => item[method] !== undefined).length, 0))
    expect(cases.length).toBeGreaterThan(2_000)

    const failures: Array<string> = []
    const started = Date.now()
    await runPool(cases, CONCURRENCY, async (entry) => {
      const outcome = await send(service.url, entry)
      if (typeof outcome === "string" || outcome.status >= 500) {
        failures.push(`${entry.operation} [${entry.credential}] ${entry.mutation}: ${typeof outcome === "string" ? outcome : `${outcome.status} ${outcome.detail}`}`)
      }
    })
    console.info(`fuzz: ${cases.length} requests over ${operations.size} operations in ${((Date.now() - started) / 1_000).toFixed(1)} s; ${failures.length} 5xx or unanswered`)
    if (failures.length > 0) console.info(failures.sort().join("\n"))
    expect(failures.sort()).toEqual([])
  })
})

/** The credentials an operation's `security` accepts, each as headers (agents: the lead and the gateway-main agent). */
const credentialsFor = (operation: Operation, fleet: Fleet, inboxKey: string): ReadonlyArray<readonly [string, Record<string, string>]> => {
  const schemes = new Set((operation.security ?? []).flatMap((requirement) => Object.keys(requirement)))
  if (schemes.size === 0) return [["public", {}]]
  return [
    ...(schemes.has("adminBearer") ? [["admin", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }] as const] : []),
    ...(schemes.has("agentToken")
      ? [["lead", { "x-agent-token": fleet.agents.lead.token }] as const, ["main", { "x-agent-token": fleet.agents.main.token }] as const]
      : []),
    ...(schemes.has("inboxKey") ? [["inbox key", { "x-api-key": inboxKey }] as const] : [])
  ]
}

/** A valid value for each path parameter: real ids (the fleet's), or one naming nothing for destructive operations. */
const pathValue = (key: string, name: string, fleet: Fleet, missing: string) => {
  if (DESTRUCTIVE.test(key) && name === "id") return missing
  switch (name) {
    case "id":
      return key.includes("/gateways/") ? fleet.gateways.home : key.includes("/boards/") ? fleet.boards.board : key.includes("/agents/") ? fleet.agents.ada.id : missing
    case "board_id":
      return fleet.boards.board
    case "agent_id":
      return fleet.agents.ada.id
    case "key":
      return "agent:nobody:main"
    case "asset":
      return "docs.css"
    case "name":
      return "main.js"
    default:
      return missing
  }
}

/** Query values that keep a valid request quick: sends do not wait for delivery, waits end at once. */
const QUICK_QUERY: Readonly<Record<string, string>> = { wait_ms: "0", timeout_ms: "1" }

const buildCases = (document: Document, fleet: Fleet, inboxKey: string): Array<Case> => {
  const missing = crypto.randomUUID()
  const resolve = (schema: Schema | undefined): Schema | undefined => {
    if (schema?.$ref === undefined) return schema
    return resolve(document.components?.schemas?.[schema.$ref.replace("#/components/schemas/", "")])
  }
  const cases: Array<Case> = []
  for (const [template, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method]
      if (operation === undefined) continue
      const key = `${method.toUpperCase()} ${template}`
      const parameters = operation.parameters ?? []
      const validPath = Object.fromEntries(parameters.filter((p) => p.in === "path").map((p) => [p.name, pathValue(key, p.name, fleet, missing)]))
      const validQuery = Object.fromEntries(parameters.filter((p) => p.in === "query" && QUICK_QUERY[p.name] !== undefined).map((p) => [p.name, QUICK_QUERY[p.name]!]))
      const bodySchema = operation.requestBody?.content?.["application/json"]?.schema
      const validBody = bodySchema === undefined ? undefined : (sample(bodySchema as never, { skipNonRequired: true, quiet: true }, document) as Json)
      const url = (pathValues: Record<string, string>, query: Record<string, string>) => {
        const search = Object.entries(query).map(([name, value]) => `${name}=${value}`).join("&")
        return `${template.replace(/\{(\w+)\}/g, (_, name: string) => pathValues[name] ?? missing)}${search === "" ? "" : `?${search}`}`
      }
      for (const [credential, auth] of credentialsFor(operation, fleet, inboxKey)) {
        const add = (mutation: string, change: { path?: Record<string, string>; query?: Record<string, string>; headers?: Record<string, string>; body?: string | undefined }) =>
          cases.push({
            operation: key,
            credential,
            mutation,
            method: method.toUpperCase(),
            path: url(change.path ?? validPath, change.query ?? validQuery),
            headers: { ...auth, ...(bodySchema === undefined ? {} : { "content-type": "application/json" }), ...change.headers },
            ...("body" in change ? (change.body === undefined ? {} : { body: change.body }) : validBody === undefined ? {} : { body: JSON.stringify(validBody) })
          })
        for (const parameter of parameters) {
          if (parameter.in === "path") for (const [label, value] of BAD_SEGMENTS) add(`path ${parameter.name}: ${label}`, { path: { ...validPath, [parameter.name]: value } })
          if (parameter.in === "query") {
            for (const [label, value] of BAD_QUERY) add(`query ${parameter.name}: ${label}`, { query: { ...validQuery, [parameter.name]: value } })
            add(`query ${parameter.name}: repeated`, { query: { ...validQuery, [parameter.name]: `1&${parameter.name}=2` } })
          }
          if (parameter.in === "header") for (const [label, value] of BAD_HEADERS) add(`header ${parameter.name}: ${label}`, { headers: { [parameter.name]: value } })
        }
        add("unknown query parameter", { query: { ...validQuery, "no_such_parameter%00": "%ED%A0%80" } })
        if (bodySchema === undefined) continue
        for (const [label, body] of BAD_BODIES) add(`body: ${label}`, { body })
        add("body: just under the limit", { body: JSON.stringify({ padding: HUGE.repeat(8) }) })
        add("body: unknown field", { body: JSON.stringify({ ...asObject(validBody), "no_such_field\u0000": 1 }) })
        for (const [field, fieldSchema, required] of fieldsOf(resolve, bodySchema, [])) {
          const base = asObject(validBody)
          if (required && field.length === 1) add(`body ${field.join(".")}: missing`, { body: JSON.stringify(withoutKey(base, field[0]!)) })
          const values = resolve(fieldSchema)?.type === "array" ? [...BAD_VALUES, ...BAD_ITEMS.map(([label, value]) => [`[${label}]`, [value]] as const)] : BAD_VALUES
          for (const [label, value] of values) add(`body ${field.join(".")}: ${label}`, { body: JSON.stringify(setAt(base, field, value)) })
        }
      }
    }
  }
  return cases
}

/** Every field of an object schema (and of its nested objects, one level down), across union branches. */
const fieldsOf = (resolve: (schema: Schema | undefined) => Schema | undefined, schema: Schema, prefix: ReadonlyArray<string>): Array<readonly [ReadonlyArray<string>, Schema, boolean]> => {
  const resolved = resolve(schema)
  if (resolved === undefined || prefix.length > 1) return []
  const branches = [resolved, ...(resolved.anyOf ?? []), ...(resolved.oneOf ?? []), ...(resolved.allOf ?? [])].map(resolve).filter((branch) => branch !== undefined)
  const seen = new Set<string>()
  return branches.flatMap((branch) =>
    Object.entries(branch.properties ?? {}).flatMap(([name, property]) => {
      if (seen.has(name)) return []
      seen.add(name)
      const path = [...prefix, name]
      return [[path, property, branch.required?.includes(name) ?? false] as const, ...fieldsOf(resolve, property, path)]
    })
  )
}

const asObject = (value: Json | undefined): Record<string, Json> => (typeof value === "object" && value !== null && !Array.isArray(value) ? { ...(value as Record<string, Json>) } : {})

const withoutKey = (value: Record<string, Json>, key: string) => Object.fromEntries(Object.entries(value).filter(([name]) => name !== key))

const setAt = (value: Record<string, Json>, path: ReadonlyArray<string>, leaf: Json): Record<string, Json> => {
  const [head, ...rest] = path
  if (head === undefined) return value
  return { ...value, [head]: rest.length === 0 ? leaf : setAt(asObject(value[head]), rest, leaf) }
}

/** One request: its status and `detail`, or why it got no answer. Streams are cut after the headers. */
const send = async (baseUrl: string, entry: Case): Promise<{ status: number; detail: string } | string> => {
  try {
    const response = await fetch(`${baseUrl}${entry.path}`, {
      method: entry.method,
      headers: entry.headers,
      ...(entry.body === undefined ? {} : { body: entry.body }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    })
    if (response.headers.get("content-type")?.includes("text/event-stream") === true || response.status < 500) {
      await response.body?.cancel()
      return { status: response.status, detail: "" }
    }
    const text = await response.text()
    return { status: response.status, detail: text.slice(0, 200) }
  } catch (error) {
    return `no answer (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`
  }
}

/** Runs `work` over `items`, at most `width` at a time. */
const runPool = async <A>(items: ReadonlyArray<A>, width: number, work: (item: A) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!)
    })
  )
}
