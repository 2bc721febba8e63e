import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConnectChallenge, HelloOk, PROTOCOL_VERSION } from "../../../src/gateway/protocol.ts"
import { connectRaw, RawConnectError } from "../rawGatewayClient.ts"
import type { RawConnection } from "../rawGatewayClient.ts"
import { defineAgentCases } from "./agentConformanceCases.ts"
import { defineConfigEventCases } from "./configEventConformanceCases.ts"
import type { ConformanceTarget } from "./conformanceSupport.ts"
import { callFail, callOk, connectWhenUp, deleteAgents, retryingRestarts, runId } from "./conformanceSupport.ts"
import { defineStateCases } from "./stateConformanceCases.ts"
import { defineLivenessCases } from "./livenessConformanceCases.ts"
import { backendConnectParams, rawHandshake } from "./rawHandshake.ts"

/**
 * Registers the gateway conformance cases: the same `it`s run against the simulator (unit
 * project) and a real OpenClaw gateway (integration project), so the simulator cannot drift
 * from the gateway's shapes and error texts (docs/gateway-protocol.md §2, §3, §5). `getTarget` is read lazily,
 * after the caller's `beforeAll` started its target. Cases use run-unique names, poll instead of
 * sleeping, and delete the agents they create.
 */
export function defineConformanceCases(getTarget: () => ConformanceTarget): void {
  const run = runId()
  const created = new Set<string>()
  let gw: RawConnection | undefined
  const conn = (): RawConnection => {
    if (gw === undefined) throw new Error("conformance connection not open")
    return gw
  }

  // A real gateway may restart itself after a config.patch (docs/gateway-protocol.md §9): the
  // cases that meet it open a new connection once it answers again. Under heavy load it may
  // instead refuse calls on the open socket as restarting, for a while: those are sent again.
  const reopen = async (): Promise<RawConnection> => {
    await gw?.close().catch(() => undefined)
    gw = retryingRestarts(await connectWhenUp(getTarget()))
    return gw
  }

  beforeAll(async () => {
    gw = retryingRestarts(await connectRaw(getTarget()))
  })
  afterAll(async () => {
    await deleteAgents(gw, created)
    await gw?.close()
  })

  describe("handshake", () => {
    // No `health` event is asserted: the real gateway broadcasts it on its 60 s health refresh,
    // not per connection, so a new socket may wait a minute for one.
    it("sends connect.challenge, then answers connect with hello-ok", async () => {
      const hello = HelloOk.parse(conn().hello)
      expect(hello.protocol).toBe(PROTOCOL_VERSION)
      expect(hello.auth.scopes).toEqual(expect.arrayContaining(["operator.read", "operator.write", "operator.admin"]))
      expect(hello.policy.tickIntervalMs).toBeGreaterThan(0)
      expect(hello.features?.methods).toEqual(expect.arrayContaining(["agents.create", "config.patch", "chat.send"]))
      const [first] = conn().events
      expect(first?.event).toBe("connect.challenge")
      ConnectChallenge.parse(first?.payload)
    })

    it("refuses a wrong token with AUTH_TOKEN_MISMATCH and closes 1008", async () => {
      const { url, token } = getTarget()
      const refused = await connectRaw({ url, token: `${token}-wrong` }).then(
        async (c) => (await c.close(), undefined),
        (err: unknown) => err
      )
      expect(refused).toBeInstanceOf(RawConnectError)
      expect((refused as RawConnectError).error?.code).toBe("INVALID_REQUEST")
      expect((refused as RawConnectError).error?.details).toMatchObject({ code: "AUTH_TOKEN_MISMATCH" })
      const raw = await rawHandshake(url, backendConnectParams(`${token}-wrong`))
      expect(raw.response.error?.message).toBe("unauthorized: gateway token mismatch (provide gateway auth token)")
      expect(raw.close?.code).toBe(1008)
    })

    it("refuses protocol 3 with PROTOCOL_MISMATCH and closes 1002", async () => {
      const { url, token } = getTarget()
      const raw = await rawHandshake(url, backendConnectParams(token, { minProtocol: 3, maxProtocol: 3 }))
      expect(raw.response.error).toMatchObject({
        code: "INVALID_REQUEST",
        message: "protocol mismatch",
        details: { code: "PROTOCOL_MISMATCH", expectedProtocol: 4 }
      })
      expect(raw.close?.code).toBe(1002)
    })

    it("refuses a client id outside the enum", async () => {
      const { url, token } = getTarget()
      const params = backendConnectParams(token)
      const raw = await rawHandshake(url, { ...params, client: { ...(params.client as object), id: "mission-control" } })
      expect(raw.response.error).toMatchObject({
        code: "INVALID_REQUEST",
        message: "invalid connect params: at /client/id: must be equal to one of the allowed values"
      })
      expect(raw.close?.code).toBe(1008)
    })
  })

  describe("requests", () => {
    it("answers health", async () => {
      expect((await callOk(conn(), "health")).ok).toBe(true)
    })

    it("names unknown methods", async () => {
      expect(await callFail(conn(), "no.such.method", {})).toMatchObject({ code: "INVALID_REQUEST", message: "unknown method: no.such.method" })
    })

    it("rejects an unexpected property in a closed params object", async () => {
      const error = await callFail(conn(), "agents.create", { name: `x-${run}`, bogus: 1 })
      expect(error).toMatchObject({ code: "INVALID_REQUEST", message: "invalid agents.create params: at root: unexpected property 'bogus'" })
    })
  })

  defineAgentCases(conn, run, created)
  defineStateCases(conn, reopen, run, created)
  defineLivenessCases(conn, run, created)
  defineConfigEventCases(conn, getTarget, run, created)
}
