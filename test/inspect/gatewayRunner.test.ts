import { describe, expect, it } from "vitest"
// @ts-expect-error -- a browser .js module without declarations (see clientModules.ts)
import * as gatewayRunnerJs from "../../src/inspect/client/gatewayRunner.js"

type Answer = { status: number; body: unknown }
const { gatewayRunner } = gatewayRunnerJs as {
  gatewayRunner: (api: (method: string, path: string) => Promise<Answer>, gatewayId: string | undefined) => Promise<string>
}

const VIEW = {
  self: "10.0.0.1:34431",
  runners: [
    { address: "10.0.0.1:34431", healthy: true, shards: 150 },
    { address: "10.0.0.2:34431", healthy: true, shards: 150 }
  ],
  gateways: [
    { gateway_id: "g-here", runner: "10.0.0.1:34431" },
    { gateway_id: "g-there", runner: "10.0.0.2:34431" },
    { gateway_id: "g-orphan", runner: null }
  ]
}
const answering = (answer: Answer) => async (method: string, path: string) => {
  expect([method, path]).toEqual(["GET", "/api/v1/cluster"])
  return answer
}

describe("gatewayRunner (the inspector's owner of the selected agent's gateway)", () => {
  it("names the runner from GET /api/v1/cluster, marking the instance serving the page", async () => {
    expect(await gatewayRunner(answering({ status: 200, body: VIEW }), "g-there")).toBe("10.0.0.2:34431")
    expect(await gatewayRunner(answering({ status: 200, body: VIEW }), "g-here")).toBe("10.0.0.1:34431 (this instance)")
  })

  it("says so while a gateway has no live owner", async () => {
    expect(await gatewayRunner(answering({ status: 200, body: VIEW }), "g-orphan")).toBe("no live owner")
    expect(await gatewayRunner(answering({ status: 200, body: VIEW }), "g-unknown")).toBe("no live owner")
  })

  it("shows a dash when the server cannot say", async () => {
    expect(await gatewayRunner(answering({ status: 404, body: null }), "g-here")).toBe("—")
    expect(await gatewayRunner(async () => Promise.reject(new Error("offline")), "g-here")).toBe("—")
    expect(await gatewayRunner(answering({ status: 200, body: VIEW }), undefined)).toBe("—")
  })
})
