import type { AddressInfo } from "node:net"
import { Redacted } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { WebSocketServer } from "ws"
import { GatewayConnection } from "../../src/gateway/GatewayConnection.ts"
import { GatewayConnectionError } from "../../src/gateway/GatewayError.ts"

/**
 * A gateway that completes the handshake with `tickIntervalMs` and then never sends another
 * frame, nor closes: what a client sees when the network drops without a FIN.
 */
const silentGateway = async (tickIntervalMs: number) => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  let connections = 0
  server.on("connection", (ws) => {
    connections += 1
    ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: Date.now() } }))
    ws.once("message", (data) => {
      const { id } = JSON.parse(data.toString()) as { id: string }
      ws.send(
        JSON.stringify({
          type: "res",
          id,
          ok: true,
          payload: { type: "hello-ok", protocol: 4, server: { version: "2026.9.6" }, auth: { scopes: ["operator.read", "operator.write", "operator.admin"] }, policy: { tickIntervalMs } }
        })
      )
    })
  })
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

describe("GatewayConnection", () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  it("ends a socket that has been silent for two tick intervals, fails its calls as retryable, and reconnects", async () => {
    const gateway = await silentGateway(100)
    cleanups.push(gateway.stop)
    const connection = new GatewayConnection({ url: gateway.url, token: Redacted.make("t"), handshakeTimeoutMs: 2_000, clientVersion: "test", onEvent: () => undefined })
    cleanups.push(() => connection.dispose())

    const started = Date.now()
    const error = await connection.request("r1", "health", {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayConnectionError)
    expect(error).toMatchObject({ reason: "closed", retryable: true, closeCode: 1006 })
    expect(Date.now() - started).toBeLessThan(1_500)
    await expect.poll(() => gateway.connections(), { timeout: 3_000 }).toBeGreaterThanOrEqual(2)
  })

  it("fails a handshake cut short by a retargeting dispose as retargeted (not a retryable handshake error that would re-dial)", async () => {
    // A gateway that accepts the socket and never sends its challenge: the handshake is still under way.
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
    await new Promise<void>((resolve) => server.once("listening", () => resolve()))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    let connections = 0
    server.on("connection", () => void (connections += 1))
    const connection = new GatewayConnection({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: Redacted.make("t"),
      handshakeTimeoutMs: 5_000,
      clientVersion: "test",
      onEvent: () => undefined
    })
    const handshake = connection.connect().catch((e: unknown) => e)
    await expect.poll(() => connections).toBe(1)
    connection.dispose("retargeted")

    expect(await handshake).toMatchObject({ reason: "retargeted", retryable: false })
  })

  it("refuses a socket the gateway admitted without the scopes Switchyard needs, with a clear non-retryable error", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
    await new Promise<void>((resolve) => server.once("listening", () => resolve()))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    server.on("connection", (ws) => {
      ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: Date.now() } }))
      ws.once("message", (data) => {
        const { id } = JSON.parse(data.toString()) as { id: string }
        // What a remote client without a paired device gets (docs/gateway-protocol.md §0.4).
        ws.send(JSON.stringify({ type: "res", id, ok: true, payload: { type: "hello-ok", protocol: 4, server: { version: "2026.9.6" }, auth: { scopes: [] }, policy: { tickIntervalMs: 30_000 } } }))
      })
    })
    const connection = new GatewayConnection({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: Redacted.make("t"),
      handshakeTimeoutMs: 2_000,
      clientVersion: "test",
      onEvent: () => undefined
    })
    cleanups.push(() => connection.dispose())
    const error = await connection.request("r1", "agents.list", {}).catch((e: unknown) => e)
    expect(error).toMatchObject({ reason: "auth", retryable: false })
    expect(String((error as Error).message)).toContain("without operator.read, operator.write, operator.admin")
  })
})
