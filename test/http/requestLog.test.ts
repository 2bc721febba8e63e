import { HttpApp, HttpServerResponse } from "@effect/platform"
import { Context, Effect, HashMap, Logger, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { z } from "zod"
import { ApiError } from "../../src/http/ApiError.ts"
import { AdminToken } from "../../src/http/auth.ts"
import { AuthFailureLimiter } from "../../src/http/AuthFailureLimiter.ts"
import { answer, endpoints, reply } from "../../src/http/Endpoint.ts"
import { requestLogger } from "../../src/http/requestLogger.ts"
import { serve } from "../../src/http/serve.ts"
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

const entry = (path: `/${string}`, unlogged: true | "when-ok" | undefined) => ({
  method: "post" as const,
  path,
  access: { kind: "public" as const },
  summary: "A beat",
  query: z.object({ refuse: z.string().optional() }),
  responses: { 200: answer("Taken.", z.object({ ok: z.boolean() })) },
  failures: [404 as const],
  ...(unlogged === undefined ? {} : { unlogged })
})
const api = endpoints({ quiet: entry("/quiet", "when-ok"), silent: entry("/silent", true), loud: entry("/loud", undefined) })
const handler = ({ query }: { readonly query: { readonly refuse?: string | undefined } }) =>
  query.refuse === undefined ? Effect.succeed(reply(200, { ok: true })) : Effect.fail(new ApiError({ status: 404, detail: "refused" }))

/** The paths and statuses the request log wrote for `calls` (method POST), through the server's logger middleware. */
const logged = async (calls: ReadonlyArray<string>, full = false) => {
  const lines: Array<string> = []
  const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ annotations, message, spans }) => {
    const field = (key: string) => String(Option.getOrElse(HashMap.get(annotations, key), () => ""))
    const labels = [...spans].map((span) => span.label.replace(/\d+$/, "N"))
    lines.push(full ? `${String(message)} ${field("http.method")} ${field("http.url")} ${field("http.status")} ${labels.join(",")}` : `${field("http.url")} ${field("http.status")}`)
  }))
  const app = requestLogger(serve(api, { quiet: handler, silent: handler, loud: handler }).pipe(
    Effect.catchTag("RouteNotFound", () => Effect.succeed(HttpServerResponse.empty({ status: 404 }))),
    Effect.provide(kernel)
  ))
  const web = HttpApp.toWebHandler(app.pipe(Effect.provide(capture)))
  for (const call of calls) await web(new Request(`http://switchyard.test${call}`, { method: "POST" }))
  return lines.map((line) => line.replace("http://switchyard.test", ""))
}

describe("the request log", () => {
  it("`unlogged: \"when-ok\"` leaves out the answers below 400 and keeps the refusals", async () => {
    expect(await logged(["/quiet", "/quiet?refuse=1"])).toEqual(["/quiet?refuse=1 404"])
  })

  it("a line names the method, url and status, with the request's duration as its http.span", async () => {
    expect(await logged(["/loud"], true)).toEqual(["Sent HTTP response POST /loud 200 http.span.N"])
  })

  it("an entry without `unlogged` logs every answer; `unlogged: true` none", async () => {
    expect(await logged(["/loud", "/loud?refuse=1", "/silent", "/silent?refuse=1"])).toEqual(["/loud 200", "/loud?refuse=1 404"])
  })
})
