import { describe, expect, it } from "vitest"
import { z } from "zod"
import { answer, endpoints } from "../../src/http/Endpoint.ts"
import { exactEntries, serve } from "../../src/http/serve.ts"
import { router } from "../../src/http/HttpApp.ts"

const entry = <const P extends `/${string}`>(path: P, more: { readonly params?: z.ZodObject; readonly query?: z.ZodObject } = {}) => ({
  method: "post" as const,
  path,
  access: { kind: "public" as const },
  summary: "An entry",
  responses: { 200: answer("Taken.", z.object({ ok: z.boolean() })) },
  ...more
})

describe("entries answered by exact path (no router)", () => {
  it("are the entries with neither path parameters nor a query", () => {
    const api = endpoints({
      fixed: entry("/exact-test/fixed"),
      withParams: entry("/exact-test/{id}", { params: z.object({ id: z.string() }) }),
      withQuery: entry("/exact-test/query", { query: z.object({ q: z.string().optional() }) })
    })
    serve(api, { fixed: () => null as never, withParams: () => null as never, withQuery: () => null as never })
    expect([...exactEntries].filter((key) => key.includes("/exact-test/"))).toEqual(["POST /exact-test/fixed"])
  })

  it("include the heartbeat, and every one of them is a route of the service's router", () => {
    expect(exactEntries.has("POST /api/v1/agent/heartbeat")).toBe(true)
    const routes = new Set([...router.routes].map((route) => `${route.method} ${route.path}`))
    for (const key of exactEntries) if (!key.includes("/exact-test/")) expect(routes.has(key)).toBe(true)
  })
})
