import { HttpApp, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { reply } from "../../src/http/Endpoint.ts"
import { toResponse } from "../../src/http/serve.ts"

/** What a client receives for `response`, through the platform's web handler. */
const received = async (response: HttpServerResponse.HttpServerResponse) => {
  const web = HttpApp.toWebHandler(Effect.succeed(response))
  const answer = await web(new Request("http://localhost/"))
  return { status: answer.status, headers: Object.fromEntries(answer.headers), text: await answer.text() }
}

describe("toResponse (a handler's Reply as the HTTP answer)", () => {
  it("answers the reply's JSON with its status and headers, content-type application/json and its length in bytes (not characters)", async () => {
    const body = { name: "Zoë ✓ 🚀", items: [1, null, "x"] }
    const answer = await received(toResponse(reply(201, body, { location: "/api/v1/agents/1" })))
    expect(answer.status).toBe(201)
    expect(answer.headers["content-type"]).toBe("application/json")
    expect(answer.headers["content-length"]).toBe(String(Buffer.byteLength(JSON.stringify(body), "utf8")))
    expect(answer.headers["location"]).toBe("/api/v1/agents/1")
    expect(JSON.parse(answer.text)).toEqual(body)
  })

  it("passes a response the handler built itself through unchanged", async () => {
    const own = HttpServerResponse.text("hello", { status: 202 })
    expect(toResponse(own)).toBe(own)
  })
})
