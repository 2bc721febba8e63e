import { HttpApp } from "@effect/platform"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { AgentsRestoring } from "../../src/agents/AgentSystemErrors.ts"
import { handle } from "../../src/http/respond.ts"

/** What a client receives when a handler fails with `AgentsRestoring` of `reason`. */
const received = async (reason: "actor-restarting" | "actor-failed") => {
  const web = HttpApp.toWebHandler(handle(Effect.fail(new AgentsRestoring({ agentId: "a", reason }))))
  const answer = await web(new Request("http://localhost/"))
  return { status: answer.status, retryAfter: answer.headers.get("retry-after"), detail: ((await answer.json()) as { detail: string }).detail }
}

describe("an agent whose actor failed (docs/architecture.md §6.8, §7.3)", () => {
  it("answers 503 with Retry-After while it restarts, and a 503 that says it was stopped past its restart budget", async () => {
    expect(await received("actor-restarting")).toEqual({ status: 503, retryAfter: "1", detail: expect.stringContaining("being restarted") })
    expect(await received("actor-failed")).toEqual({ status: 503, retryAfter: "60", detail: expect.stringContaining("failed repeatedly and was stopped") })
  })
})
