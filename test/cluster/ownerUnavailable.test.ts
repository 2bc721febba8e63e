import { HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { AgentsRestoring } from "../../src/agents/AgentSystemErrors.ts"
import { handle } from "../../src/http/respond.ts"

const answer = (error: AgentsRestoring) =>
  Effect.runPromise(handle(Effect.fail(error) as Effect.Effect<HttpServerResponse.HttpServerResponse, AgentsRestoring>)).then((response) => ({
    status: response.status,
    retryAfter: response.headers["retry-after"]
  }))

describe("an agent whose gateway has no live owner (docs/operations.md §7.3)", () => {
  it("answers 503 with Retry-After, not 500, whether its owner is unavailable or its actors are restoring", async () => {
    expect(await answer(new AgentsRestoring({ agentId: "a", reason: "owner-unavailable" }))).toEqual({ status: 503, retryAfter: "2" })
    expect(await answer(new AgentsRestoring({ agentId: "a" }))).toEqual({ status: 503, retryAfter: "1" })
  })
})
