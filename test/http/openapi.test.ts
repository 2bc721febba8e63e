import { Validator } from "@seriousme/openapi-schema-validator"
import { describe, expect, it } from "vitest"
import { buildOpenApiDocument } from "../../src/http/openapi/openApiDocument.ts"

/**
 * GET /openapi.json (docs/architecture.md §7.4): generated from the endpoint tables that also route
 * the requests (so every route is an operation by construction), valid OpenAPI 3.1.
 */
const document = buildOpenApiDocument()

type Operation = { operationId?: string; tags?: Array<string>; security?: Array<Record<string, Array<string>>>; parameters?: Array<{ in: string; name: string }> } & Record<
  string,
  unknown
>
const METHODS = ["get", "put", "post", "delete", "patch", "options", "head"] as const

/** `METHOD /path/{param}` of every operation in the document. */
const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  METHODS.flatMap((method) => {
    const operation = (item as Record<string, Operation | undefined>)[method]
    return operation === undefined ? [] : [{ key: `${method.toUpperCase()} ${path}`, path, operation }]
  })
)
const byKey = new Map(operations.map((entry) => [entry.key, entry.operation]))
const operation = (key: string) => {
  const found = byKey.get(key)
  if (found === undefined) throw new Error(`no operation ${key}`)
  return found
}

describe("GET /openapi.json: the OpenAPI document", () => {
  it("validates as OpenAPI 3.1", async () => {
    const validator = new Validator()
    const result = await validator.validate(JSON.parse(JSON.stringify(document)) as Record<string, unknown>)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe("3.1")
  })

  it("declares every path parameter, with unique operation ids", () => {
    for (const { key, path, operation: op } of operations) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort()
      const declared = (op.parameters ?? []).filter((parameter) => parameter.in === "path").map((parameter) => parameter.name).sort()
      expect(declared, key).toEqual(inPath)
    }
    const ids = operations.map((entry) => entry.operation.operationId)
    expect(ids.every((id) => typeof id === "string")).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it("tags the agents' own operations with their role tags, with the hints their AGENTS.md filters on", () => {
    const everyAgent = ["agent-main", "agent-lead", "agent-worker"]
    expect(operation("POST /api/v1/agent/heartbeat").tags).toEqual(everyAgent)
    expect(operation("POST /api/v1/agents/{id}/heartbeat").tags).toEqual([...everyAgent, "admin", "agents"])
    expect(operation("POST /api/v1/agents/heartbeat").tags).toEqual([...everyAgent, "admin", "agents"])
    // Only a lead creates agents (and the admin).
    expect(operation("POST /api/v1/agents").tags).toEqual(["agent-lead", "admin", "agents"])
    for (const { key, operation: op } of operations.filter((entry) => entry.operation.tags?.some((tag) => tag.startsWith("agent-")))) {
      expect(op["x-llm-intent"], key).toEqual(expect.any(String))
      expect(op["x-when-to-use"], key).toEqual(expect.arrayContaining([expect.any(String)]))
      expect(op.security, key).toEqual(expect.arrayContaining([{ agentToken: [] }]))
    }
    // What each role's discovery command (templates/AGENTS.md.njk) keeps: the role split of docs/operations.md §6.2.
    const tagged = (role: string) => operations.filter((entry) => entry.operation.tags?.includes(role)).map((entry) => entry.key)
    const leadOnly = [
      "POST /api/v1/agents",
      "POST /api/v1/agent/boards/{board_id}/agents/{agent_id}/nudge",
      "PUT /api/v1/agent/boards/{board_id}/agents/{agent_id}/soul",
      "POST /api/v1/agent/boards/{board_id}/gateway/main/ask-user"
    ]
    const mainOnly = ["POST /api/v1/agent/gateway/boards/{board_id}/lead/message", "POST /api/v1/agent/gateway/leads/broadcast", "POST /api/v1/agent/boards/{board_id}/onboarding"]
    const everyone = ["POST /api/v1/agent/heartbeat", "GET /api/v1/agent/healthz", "GET /api/v1/agent/boards", "GET /api/v1/agent/boards/{board_id}/memory"]
    expect(tagged("agent-lead")).toEqual(expect.arrayContaining([...everyone, ...leadOnly, "GET /api/v1/agent/boards/{board_id}/agents/{agent_id}/soul"]))
    expect(tagged("agent-main")).toEqual(expect.arrayContaining([...everyone, ...mainOnly]))
    expect(tagged("agent-worker")).toEqual(expect.arrayContaining(everyone))
    expect(tagged("agent-worker").filter((key) => [...leadOnly, ...mainOnly].includes(key))).toEqual([])
    expect(tagged("agent-main").filter((key) => leadOnly.includes(key))).toEqual([])
    expect(tagged("agent-lead").filter((key) => mainOnly.includes(key))).toEqual([])
  })

  it("tags every admin operation `admin` plus its resource, secured by the admin bearer", () => {
    const resources = ["gateways", "boards", "tasks", "agents", "template-sync", "activity", "messages"]
    const adminOnly = operations.filter((entry) => entry.operation.tags?.[0] === "admin")
    expect(adminOnly.length).toBeGreaterThan(25)
    for (const { key, operation: op } of adminOnly) {
      expect(op.tags, key).toHaveLength(2)
      expect(resources, key).toContain(op.tags?.[1])
      expect(op.security, key).toEqual([{ adminBearer: [] }])
    }
    expect(Object.keys(document.components?.securitySchemes ?? {}).sort()).toEqual(["adminBearer", "agentBearer", "agentToken", "inboxKey"])
    expect(document.components?.securitySchemes?.["agentToken"]).toMatchObject({ type: "apiKey", in: "header", name: "X-Agent-Token" })
    // Public operations need no credentials.
    expect(operation("GET /healthz").security).toEqual([])
    expect(operation("GET /metrics").security).toEqual([])
  })

  it("takes request schemas from the contract (a strict body stays strict, a default stays a default)", () => {
    const body = (operation("POST /api/v1/agents").requestBody as { content: Record<string, { schema: Record<string, unknown> }> }).content["application/json"]!.schema
    expect(body).toMatchObject({ type: "object", additionalProperties: false, required: ["name"] })
    const wait = (operation("POST /api/v1/agents").parameters ?? []).find((parameter) => parameter.name === "timeout_ms") as { schema?: { default?: number } } | undefined
    expect(wait?.schema?.default).toBe(30_000)
    // A `z.stringbool()` query flag is a boolean on the wire.
    const flag = (operation("POST /api/v1/gateways/{id}/templates/sync").parameters ?? []).find((parameter) => parameter.name === "rotate_tokens") as { schema?: { type?: string } } | undefined
    expect(flag?.schema?.type).toBe("boolean")
  })
  it("documents the fleet view's admin reads: the recent sync jobs (with `limit`) and the cluster's runners and owners", () => {
    const jobs = operation("GET /api/v1/templates/sync/jobs")
    expect(jobs).toMatchObject({ operationId: "listTemplateSyncJobs", tags: ["admin", "template-sync"], security: [{ adminBearer: [] }] })
    expect(jobs.parameters).toEqual([
      { in: "query", name: "limit", description: "How many jobs, 1–100 (default 20).", schema: { default: 20, description: "How many jobs, 1–100 (default 20).", type: "integer", minimum: 1, maximum: 100 } }
    ])
    const list = (jobs["responses"] as Record<string, { content: Record<string, { schema: { properties: Record<string, unknown> } }> }>)["200"]!.content["application/json"]!.schema
    expect(list.properties["items"]).toEqual({ type: "array", items: { $ref: "#/components/schemas/SyncJobSummary" } })
    const cluster = operation("GET /api/v1/cluster")
    expect(cluster).toMatchObject({ operationId: "clusterView", tags: ["admin", "gateways"], security: [{ adminBearer: [] }] })
    expect(cluster["responses"]).toMatchObject({ "200": { content: { "application/json": { schema: { $ref: "#/components/schemas/ClusterView" } } } }, "503": { $ref: "#/components/responses/Unavailable" } })
    expect(document.components?.schemas?.["ClusterView"]).toMatchObject({ required: ["self", "runners", "gateways"] })
  })

  it("documents liveness: a gateway's watcher status and the agent view's `liveness`", () => {
    const liveness = operation("GET /api/v1/gateways/{id}/liveness")
    expect(liveness).toMatchObject({ operationId: "gatewayLiveness", tags: ["admin", "gateways"], security: [{ adminBearer: [] }] })
    expect(liveness["responses"]).toMatchObject({ "200": { content: { "application/json": { schema: { $ref: "#/components/schemas/GatewayLiveness" } } } }, "404": { $ref: "#/components/responses/NotFound" } })
    expect(document.components?.schemas?.["Agent"]).toMatchObject({ properties: { liveness: { $ref: "#/components/schemas/AgentLiveness" } } })
    expect((document.components?.schemas?.["Agent"] as { required?: Array<string> }).required).toContain("liveness")
  })
})
