import { createHash, createPublicKey, randomUUID, verify } from "node:crypto"
import type { IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { describe, expect } from "vitest"
import { WebSocketServer } from "ws"
import { generateDeviceIdentity, type DeviceIdentity } from "../../src/gateway/DeviceIdentity.ts"
import { makeGatewayClient, type GatewayTarget } from "../../src/gateway/GatewayClient.ts"
import { describeGatewayError, GatewayPairingRequired, isTransient } from "../../src/gateway/GatewayError.ts"
import { gatewayTransient } from "../../src/gateway/retryPolicies.ts"

const CLIENT_CONFIG = { callTimeoutMs: 2_000, handshakeTimeoutMs: 2_000, clientVersion: "0.0.0-test" }
const SHARED = "shared-token-0123456789"
const ISSUED = "issued-device-token-abcdefghijklmnop"

interface ConnectParams {
  client: { id: string; mode: string; platform: string; deviceFamily?: string }
  role: string
  scopes: Array<string>
  auth?: { token?: string; deviceToken?: string }
  device?: { id: string; publicKey: string; signature: string; signedAt: number; nonce: string }
}

/**
 * A gateway that checks device proofs the way 2026.9.6 does (id = sha256(raw key), nonce and ts
 * from its challenge, Ed25519 over the v3 string, token = auth.token ?? auth.deviceToken) and
 * pairs devices: unknown → NOT_PAIRED/PAIRING_REQUIRED (close 1008) until `approve`, then
 * hello-ok with `auth.deviceToken`. The v3 string is written out here, not taken from src.
 */
const pairingGateway = Effect.acquireRelease(
  Effect.async<{
    url: string
    connects: Array<{ params: ConnectParams; headers: IncomingHttpHeaders; proof: "valid" | "none" | string }>
    approve: (deviceId: string) => void
    /** Closes every client socket with 1012 (a restart), so clients re-dial. */
    drop: () => void
    close: () => Promise<void>
  }>((resume) => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
    const approved = new Set<string>()
    const requests = new Map<string, string>()
    const connects: Array<{ params: ConnectParams; headers: IncomingHttpHeaders; proof: string }> = []
    wss.on("connection", (ws, request) => {
      const challenge = { nonce: randomUUID(), ts: Date.now() }
      ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: challenge }))
      ws.on("message", (data) => {
        const frame = JSON.parse(String(data)) as { id: string; method: string; params: ConnectParams }
        if (frame.method !== "connect") return ws.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: { ok: true } }))
        const { params } = frame
        const refuse = (error: unknown) => {
          ws.send(JSON.stringify({ type: "res", id: frame.id, ok: false, error }))
          ws.close(1008, "refused")
        }
        const proof = checkProof(params, challenge)
        connects.push({ params, headers: request.headers, proof })
        if (proof !== "valid" && proof !== "none") return refuse({ code: "INVALID_REQUEST", message: proof, details: { code: "DEVICE_AUTH_SIGNATURE_INVALID" } })
        const device = params.device
        const tokenOk = params.auth?.token === SHARED || (device !== undefined && approved.has(device.id) && params.auth?.deviceToken === ISSUED)
        if (!tokenOk) return refuse({ code: "INVALID_REQUEST", message: "unauthorized", details: { code: "AUTH_TOKEN_MISMATCH" } })
        if (device !== undefined && !approved.has(device.id)) {
          const requestId = requests.get(device.id) ?? randomUUID()
          requests.set(device.id, requestId)
          const details = { code: "PAIRING_REQUIRED", reason: "not-paired", requestId, deviceId: device.id, requestedRole: params.role, requestedScopes: params.scopes }
          return refuse({ code: "NOT_PAIRED", message: "pairing required: device is not approved yet", details })
        }
        const auth = { method: params.auth?.token === SHARED ? "token" : "device-token", role: "operator", scopes: params.scopes, ...(device === undefined ? {} : { deviceToken: ISSUED }) }
        const hello = { type: "hello-ok", protocol: 4, server: { version: "fake" }, auth, policy: { tickIntervalMs: 30_000 } }
        ws.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: hello }))
      })
    })
    wss.on("listening", () =>
      resume(
        Effect.succeed({
          url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
          connects,
          approve: (deviceId: string) => void approved.add(deviceId),
          drop: () => {
            for (const ws of wss.clients) ws.close(1012, "service restart")
          },
          close: () =>
            new Promise<void>((done) => {
              for (const ws of wss.clients) ws.terminate()
              wss.close(() => done())
            })
        })
      )
    )
  }),
  (gateway) => Effect.promise(() => gateway.close())
)

const checkProof = (params: ConnectParams, challenge: { nonce: string; ts: number }): string => {
  const device = params.device
  if (device === undefined) return "none"
  if (createHash("sha256").update(Buffer.from(device.publicKey, "base64url")).digest("hex") !== device.id) return "device identity mismatch"
  if (device.nonce !== challenge.nonce) return "device nonce mismatch"
  if (device.signedAt !== challenge.ts) return "signedAt is not the challenge ts"
  const token = params.auth?.token ?? params.auth?.deviceToken ?? ""
  const lower = (value: string | undefined) => (value ?? "").trim().toLowerCase()
  const payload = ["v3", device.id, params.client.id, params.client.mode, params.role, params.scopes.join(","), device.signedAt, token, device.nonce, lower(params.client.platform), lower(params.client.deviceFamily)].join("|")
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: device.publicKey }, format: "jwk" })
  return verify(null, Buffer.from(payload, "utf8"), key, Buffer.from(device.signature, "base64url")) ? "valid" : "device signature invalid"
}

const remoteTarget = (url: string, identity: DeviceIdentity, overrides: Partial<GatewayTarget> = {}): GatewayTarget => ({
  id: "remote-1",
  url,
  token: Redacted.make(SHARED),
  device: { identity },
  headers: { "x-forwarded-for": "203.0.113.7" },
  ...overrides
})

describe("GatewayClient with a device identity (pairing, docs/gateway-protocol.md §0.4, §2.3)", () => {
  it.scopedLive("sends a valid device proof; NOT_PAIRED becomes a non-transient GatewayPairingRequired that is not retried", () =>
    Effect.gen(function* () {
      const gateway = yield* pairingGateway
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const identity = generateDeviceIdentity()
      const target = remoteTarget(gateway.url, identity)

      const error = yield* Effect.flip(client.call(target, "health", {}).pipe(Effect.retry({ schedule: gatewayTransient, while: isTransient })))
      expect(error).toBeInstanceOf(GatewayPairingRequired)
      const pairing = error as GatewayPairingRequired
      expect(pairing).toMatchObject({ deviceId: identity.deviceId, reason: "not-paired", requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) })
      expect(isTransient(pairing)).toBe(false)
      expect(describeGatewayError(pairing)).toBe(`waiting for pairing approval, request id ${pairing.requestId}`)
      expect(pairing.message).toBe(describeGatewayError(pairing))
      expect(JSON.stringify(pairing)).not.toContain(SHARED)
      expect(gateway.connects).toHaveLength(1)

      const [connect] = gateway.connects
      expect(connect?.proof).toBe("valid")
      expect(connect?.headers["x-forwarded-for"]).toBe("203.0.113.7")
      expect(connect?.params.auth).toEqual({ token: SHARED })
      expect(connect?.params.device).toMatchObject({ id: identity.deviceId, publicKey: identity.publicKey })

      const again = yield* Effect.flip(client.connect(target))
      expect(again).toMatchObject({ _tag: "GatewayPairingRequired", requestId: pairing.requestId })
    })
  )

  it.scopedLive("after approval hands the issued device token to onDeviceToken once, and never keeps it in hello", () =>
    Effect.gen(function* () {
      const gateway = yield* pairingGateway
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const identity = generateDeviceIdentity()
      const issued: Array<Redacted.Redacted<string>> = []
      const target = remoteTarget(gateway.url, identity, { onDeviceToken: (token) => Effect.sync(() => void issued.push(token)) })

      yield* Effect.flip(client.connect(target))
      gateway.approve(identity.deviceId)
      yield* client.connect(target)
      yield* Effect.promise(() => expect.poll(() => issued.length, { timeout: 2_000, interval: 10 }).toBe(1))
      expect(Redacted.isRedacted(issued[0])).toBe(true)
      expect(Redacted.value(issued[0]!)).toBe(ISSUED)
      expect(String(issued[0])).not.toContain(ISSUED)

      // The socket's next dial (a background reconnect) sends the token it learned next to the
      // shared one, and the same token again is not news.
      gateway.drop()
      yield* Effect.promise(() => expect.poll(() => gateway.connects.length, { timeout: 3_000, interval: 10 }).toBe(3))
      expect(gateway.connects[2]?.params.auth).toEqual({ token: SHARED, deviceToken: ISSUED })
      expect(gateway.connects[2]?.proof).toBe("valid")
      yield* client.call(target, "health", {})
      expect(issued).toHaveLength(1)

      // A fresh socket (target forgotten) did not know it: the owner is told again (storing is idempotent).
      yield* client.forget(target.id)
      yield* client.connect(target)
      expect(gateway.connects.at(-1)?.params.auth).toEqual({ token: SHARED })
      yield* Effect.promise(() => expect.poll(() => issued.length, { timeout: 2_000, interval: 10 }).toBe(2))
    })
  )

  it.scopedLive("connects with the device token alone (empty shared token); the signature covers that token", () =>
    Effect.gen(function* () {
      const gateway = yield* pairingGateway
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      const identity = generateDeviceIdentity()
      gateway.approve(identity.deviceId)
      const issued: Array<string> = []
      const target = remoteTarget(gateway.url, identity, {
        token: Redacted.make(""),
        device: { identity, deviceToken: Redacted.make(ISSUED) },
        onDeviceToken: (token) => Effect.sync(() => void issued.push(Redacted.value(token)))
      })
      yield* client.call(target, "health", {})
      const connect = gateway.connects.at(-1)
      expect(connect?.proof).toBe("valid")
      expect(connect?.params.auth).toEqual({ deviceToken: ISSUED })
      // Re-issuing the token it already had is not news.
      expect(issued).toEqual([])

      const wrong = yield* Effect.flip(client.call({ ...target, id: "remote-2", device: { identity, deviceToken: Redacted.make("stale-device-token") } }, "health", {}))
      expect(wrong).toMatchObject({ _tag: "GatewayConnectionError", reason: "auth", retryable: false })
      expect(describeGatewayError(wrong)).not.toContain("stale-device-token")
    })
  )

  it.scopedLive("without a device the connect frame is unchanged: shared token only, no device, no device token", () =>
    Effect.gen(function* () {
      const gateway = yield* pairingGateway
      const client = yield* makeGatewayClient(CLIENT_CONFIG)
      yield* client.call({ id: "local", url: gateway.url, token: Redacted.make(SHARED) }, "health", {})
      const connect = gateway.connects.at(-1)
      expect(connect?.proof).toBe("none")
      expect(connect?.params.auth).toEqual({ token: SHARED })
      expect(connect?.params).not.toHaveProperty("device")
      expect(connect?.headers).not.toHaveProperty("x-forwarded-for")
    })
  )
})
