import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { z } from "zod"
import { answer, endpoints, reply } from "../../src/http/Endpoint.ts"
import { openApiPaths, serve } from "../../src/http/serve.ts"

/**
 * The endpoint table (docs/architecture.md §7.5): one entry gives the route and the OpenAPI
 * operation, and types the handler. The `@ts-expect-error` lines are checked by `npm run check`:
 * each one must stay an error.
 */
const Thing = z.object({ id: z.uuid(), name: z.string() })

const api = endpoints({
  getThing: {
    method: "get",
    path: "/api/v1/things/{id}",
    access: { kind: "agentsOrAdmin", resource: "agents", roles: ["agent-lead"], intent: "Read a thing.", whenToUse: ["When you need it"] },
    summary: "Read a thing",
    params: z.object({ id: z.uuid() }),
    responses: { 200: answer("The thing.", Thing) },
    failures: [404]
  }
})

describe("the endpoint table", () => {
  it("routes each entry at its path, with `{id}` as `:id`", () => {
    const router = serve(api, { getThing: ({ params }) => Effect.succeed(reply(200, { id: params.id, name: "one" })) })
    expect([...router.routes].map((route) => `${route.method} ${route.path}`)).toEqual(["GET /api/v1/things/:id"])
  })

  it("gives each entry its operation: name as operationId, roles and admin tags, security, hints, shared and own error answers", () => {
    const operation = openApiPaths([api])["/api/v1/things/{id}"]?.get as unknown as Record<string, unknown>
    expect(operation).toMatchObject({
      operationId: "getThing",
      tags: ["agent-lead", "admin", "agents"],
      security: [{ agentToken: [] }, { agentBearer: [] }, { adminBearer: [] }],
      "x-llm-intent": "Read a thing.",
      requestParams: { path: api.getThing.params }
    })
    expect(Object.keys(operation["responses"] as object)).toEqual(["200", "401", "403", "404", "422", "429", "503"])
  })

  it("refuses, at compile time, a handler that answers a status or a shape its entry does not declare", () => {
    // @ts-expect-error 201 is not a declared answer of getThing
    serve(api, { getThing: ({ params }) => Effect.succeed(reply(201, { id: params.id, name: "one" })) })
    // @ts-expect-error `name` is missing from the Thing shape
    serve(api, { getThing: ({ params }) => Effect.succeed(reply(200, { id: params.id })) })
    // @ts-expect-error every entry needs its handler
    serve(api, {})
    expect(true).toBe(true)
  })
})
