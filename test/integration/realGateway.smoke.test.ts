import { describe, expect, inject, it } from "vitest"
import { openclawRelease } from "../support/openclawRelease.ts"
import { connectRaw } from "../support/rawGatewayClient.ts"

const gateway = inject("realGateway")

describe.skipIf(gateway === null)("real OpenClaw gateway", () => {
  it("completes the protocol 4 handshake on the release the project names, and lists the main agent", async () => {
    if (gateway === null) return
    const conn = await connectRaw(gateway)
    try {
      expect(conn.hello).toMatchObject({ type: "hello-ok", protocol: 4, server: { version: openclawRelease().version } })
      const res = await conn.call("agents.list", {})
      expect(res.ok).toBe(true)
      expect(res.payload).toMatchObject({ agents: expect.arrayContaining([expect.objectContaining({ id: "main" })]) })
    } finally {
      await conn.close()
    }
  })
})
