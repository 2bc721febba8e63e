import { HttpApp, HttpServerResponse } from "@effect/platform"
import { Context, Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { AdminToken } from "../../src/http/auth.ts"
import { AuthFailureLimiter } from "../../src/http/AuthFailureLimiter.ts"
import { inspectHttp } from "../../src/inspect/http/inspectHttp.ts"
import { AgentApiKeyRepo } from "../../src/store/AgentApiKeyRepo.ts"
import { AgentRepo } from "../../src/store/AgentRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

// The kernel's credential services: public entries never use them.
const kernel = Context.empty().pipe(
  Context.add(AdminToken, Redacted.make("unused")),
  Context.add(AuthFailureLimiter, dieOnUnstubbed<Context.Tag.Service<AuthFailureLimiter>>("AuthFailureLimiter", {})),
  Context.add(AgentRepo, dieOnUnstubbed<Context.Tag.Service<AgentRepo>>("AgentRepo", {})),
  Context.add(AgentApiKeyRepo, dieOnUnstubbed<Context.Tag.Service<AgentApiKeyRepo>>("AgentApiKeyRepo", {}))
)
const handler = HttpApp.toWebHandler(
  inspectHttp.pipe(
    Effect.catchTag("RouteNotFound", () => Effect.succeed(HttpServerResponse.empty({ status: 404 }))),
    Effect.provide(kernel)
  )
)
const get = (path: string, headers: Record<string, string> = {}) => handler(new Request(`http://switchyard.test${path}`, { headers }))

/** Module specifiers a client script imports (static `import … from "…"`). */
const importsOf = (source: string) => [...source.matchAll(/^\s*import\s[^"']*?["']([^"']+)["']/gm)].map((match) => match[1]!)

describe("inspectHttp (the inspector's page and assets)", () => {
  it("serves the page with a policy that allows only the service itself", async () => {
    const page = await get("/inspect")
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
    const policy = page.headers.get("content-security-policy") ?? ""
    expect(policy).toContain("default-src 'self'")
    expect(policy).toContain("script-src 'self'")
    expect(await page.text()).toContain('<script type="module" src="/inspect/assets/main.js">')
  })

  it("serves everything the page loads, ELK included, from the service itself (works offline)", async () => {
    const html = await (await get("/inspect")).text()
    // In-page links (`href="#"`, the fleet view) load nothing.
    const referenced = [...html.matchAll(/(?:src|href)="([^"#][^"]*)"/g)].map((match) => match[1]!)
    expect(referenced).toEqual(expect.arrayContaining(["/inspect/assets/inspect.css", "/inspect/assets/main.js"]))
    const seen = new Set<string>()
    const queue = [...referenced]
    while (queue.length > 0) {
      const url = queue.shift()!
      if (seen.has(url)) continue
      seen.add(url)
      expect(url, "a local asset").toMatch(/^\/inspect\/assets\/[\w.-]+$/)
      const response = await get(url)
      expect(response.status, url).toBe(200)
      const body = await response.text()
      if (url.endsWith(".js") && !url.endsWith("elk.bundled.js")) {
        expect(response.headers.get("content-type"), url).toBe("text/javascript; charset=utf-8")
        queue.push(...importsOf(body).map((specifier) => new URL(specifier, `http://switchyard.test${url}`).pathname))
      }
    }
    // main.js reaches every module of the client through its imports.
    expect(seen.size).toBeGreaterThan(18)
    // The agent view loads ELK when it first opens (not with the fleet view), from the service too.
    expect(await (await get("/inspect/assets/agentView.js")).text()).toContain('"/inspect/assets/elk.bundled.js"')
    expect((await (await get("/inspect/assets/elk.bundled.js")).text()).length).toBeGreaterThan(1_000_000)
  })

  it("answers 304 to a matching ETag", async () => {
    const first = await get("/inspect/assets/main.js")
    const etag = first.headers.get("etag")
    expect(etag).toMatch(/^"[\w-]+"$/)
    expect((await get("/inspect/assets/main.js", { "if-none-match": etag! })).status).toBe(304)
  })

  it("serves nothing outside its list", async () => {
    for (const path of ["/inspect/assets/tsconfig.json", "/inspect/assets/index.html", "/inspect/assets/..%2F..%2Fpackage.json", "/inspect/assets/nope.js"]) {
      expect((await get(path)).status, path).toBe(404)
    }
  })
})
