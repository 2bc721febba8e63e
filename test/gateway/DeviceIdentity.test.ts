import { createHash, createPublicKey, generateKeyPairSync, verify } from "node:crypto"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import {
  deviceAuthPayloadV3,
  deviceIdOf,
  DeviceIdentityInvalid,
  generateDeviceIdentity,
  parseDeviceIdentity,
  serializeDeviceIdentity,
  signConnect,
  type ConnectSignatureFields
} from "../../src/gateway/DeviceIdentity.ts"

const RECORDING = fileURLToPath(new URL("../fixtures/gateway-recordings/openclaw-2026.9.6-more-rpc.json", import.meta.url))

/** A public key as the gateway receives it (raw base64url) turned back into a KeyObject. */
const publicKeyObject = (raw: string) => createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw }, format: "jwk" })

const FIELDS: ConnectSignatureFields = {
  clientId: "gateway-client",
  clientMode: "backend",
  role: "operator",
  scopes: ["operator.read", "operator.admin"],
  signedAt: 1_795_310_316_564,
  token: "shared-token",
  nonce: "5e22ac3e-0d20-422e-b10a-5f9d455abf92",
  platform: " Linux ",
  deviceFamily: "Server"
}

describe("DeviceIdentity", () => {
  it("derives deviceId as the lowercase hex SHA-256 of the raw 32-byte public key (base64url)", () => {
    const identity = generateDeviceIdentity()
    const raw = Buffer.from(identity.publicKey, "base64url")
    expect(raw).toHaveLength(32)
    expect(identity.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // The raw key is the tail of the SPKI DER encoding.
    const spki = createPublicKey(identity.privateKey).export({ format: "der", type: "spki" })
    expect(spki.subarray(-32).equals(raw)).toBe(true)
    expect(identity.deviceId).toBe(createHash("sha256").update(raw).digest("hex"))
    expect(identity.deviceId).toMatch(/^[0-9a-f]{64}$/)
  })

  it("matches the gateway's own deviceId for every public key in the recorded pairing flow", () => {
    const recording = JSON.parse(readFileSync(RECORDING, "utf8")) as Array<{ label: string; payload?: { pending?: Array<{ deviceId: string; publicKey: string }>; paired?: Array<{ deviceId: string; publicKey: string }> } }>
    const list = recording.find((entry) => entry.label === "device.pair.list")
    const devices = [...(list?.payload?.pending ?? []), ...(list?.payload?.paired ?? [])]
    expect(devices.length).toBeGreaterThanOrEqual(3)
    for (const device of devices) expect(deviceIdOf(device.publicKey)).toBe(device.deviceId)
  })

  it("builds the v3 payload exactly as docs/gateway-protocol.md §2.3 (platform and deviceFamily trimmed and lowercased)", () => {
    expect(deviceAuthPayloadV3("dev", FIELDS)).toBe(
      "v3|dev|gateway-client|backend|operator|operator.read,operator.admin|1795310316564|shared-token|5e22ac3e-0d20-422e-b10a-5f9d455abf92|linux|server"
    )
    const { token: _token, deviceFamily: _family, ...bare } = FIELDS
    expect(deviceAuthPayloadV3("dev", { ...bare, scopes: [] })).toBe(
      "v3|dev|gateway-client|backend|operator||1795310316564||5e22ac3e-0d20-422e-b10a-5f9d455abf92|linux|"
    )
  })

  it("signs the v3 string with Ed25519; crypto.verify accepts it over that exact string only", () => {
    const identity = generateDeviceIdentity()
    const signature = Buffer.from(signConnect(identity, FIELDS), "base64url")
    expect(signature).toHaveLength(64)
    const exact = `v3|${identity.deviceId}|gateway-client|backend|operator|operator.read,operator.admin|1795310316564|shared-token|${FIELDS.nonce}|linux|server`
    const key = publicKeyObject(identity.publicKey)
    expect(verify(null, Buffer.from(exact, "utf8"), key, signature)).toBe(true)
    expect(verify(null, Buffer.from(exact.replace("shared-token", "other-token"), "utf8"), key, signature)).toBe(false)
    expect(verify(null, Buffer.from(exact.replace("v3|", "v2|"), "utf8"), key, signature)).toBe(false)
    expect(verify(null, Buffer.from(exact, "utf8"), publicKeyObject(generateDeviceIdentity().publicKey), signature)).toBe(false)
  })

  it("serialises to redacted text and parses back to the same identity (PKCS#8 DER, base64url)", () => {
    const identity = generateDeviceIdentity()
    const text = serializeDeviceIdentity(identity)
    expect(String(text)).not.toContain(identity.publicKey)
    const stored = JSON.parse(Redacted.value(text)) as { v: number; deviceId: string; publicKey: string; privateKey: string }
    expect(stored).toMatchObject({ v: 1, deviceId: identity.deviceId, publicKey: identity.publicKey })
    expect(stored.privateKey).toMatch(/^[A-Za-z0-9_-]+$/)
    const parsed = parseDeviceIdentity(text)
    expect(parsed.deviceId).toBe(identity.deviceId)
    expect(parsed.publicKey).toBe(identity.publicKey)
    const signature = Buffer.from(signConnect(parsed, FIELDS), "base64url")
    expect(verify(null, Buffer.from(deviceAuthPayloadV3(identity.deviceId, FIELDS)), publicKeyObject(identity.publicKey), signature)).toBe(true)
  })

  it("refuses stored text that is not a consistent v1 Ed25519 identity", () => {
    const identity = generateDeviceIdentity()
    const stored = JSON.parse(Redacted.value(serializeDeviceIdentity(identity))) as Record<string, unknown>
    const other = JSON.parse(Redacted.value(serializeDeviceIdentity(generateDeviceIdentity()))) as Record<string, unknown>
    const x25519 = generateKeyPairSync("x25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url")
    const bad = [
      "not json",
      JSON.stringify({ ...stored, v: 2 }),
      JSON.stringify({ ...stored, privateKey: "AAAA" }),
      JSON.stringify({ ...stored, privateKey: other["privateKey"] }),
      JSON.stringify({ ...stored, deviceId: other["deviceId"] }),
      JSON.stringify({ ...stored, privateKey: x25519 })
    ]
    for (const text of bad) {
      expect(() => parseDeviceIdentity(Redacted.make(text))).toThrow(DeviceIdentityInvalid)
    }
    try {
      parseDeviceIdentity(Redacted.make(JSON.stringify({ ...stored, deviceId: "x" })))
    } catch (error) {
      expect(String(error)).not.toContain(String(stored["privateKey"]))
    }
  })
})
