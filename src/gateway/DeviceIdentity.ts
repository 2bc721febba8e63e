import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto"
import { Data, Redacted } from "effect"
import { z } from "zod"

/**
 * An Ed25519 device identity for remote gateways (docs/gateway-protocol.md §0.4, §2.3). `deviceId` is
 * the lowercase hex SHA-256 of the raw 32-byte public key; `publicKey` is that raw key in
 * base64url. The private key never leaves this object except through `serializeDeviceIdentity`.
 */
export interface DeviceIdentity {
  readonly deviceId: string
  readonly publicKey: string
  readonly privateKey: KeyObject
}

/** The fields of `connect` a device signature covers (docs/gateway-protocol.md §2.3, v3 payload). */
export interface ConnectSignatureFields {
  readonly clientId: string
  readonly clientMode: string
  readonly role: string
  readonly scopes: ReadonlyArray<string>
  /** The challenge's `ts` (epoch ms); the gateway accepts ±120 s of its clock. */
  readonly signedAt: number
  /** `auth.token`, else `auth.deviceToken`, else `auth.bootstrapToken`; absent means "". */
  readonly token?: string | undefined
  /** The challenge's `nonce`. */
  readonly nonce: string
  readonly platform?: string | undefined
  readonly deviceFamily?: string | undefined
}

/** A stored identity could not be read back (bad JSON, wrong key type, id/key mismatch). */
export class DeviceIdentityInvalid extends Data.TaggedError("DeviceIdentityInvalid")<{
  readonly message: string
}> {}

const rawPublicKey = (publicKey: KeyObject): string => {
  const jwk = publicKey.export({ format: "jwk" })
  if (jwk.crv !== "Ed25519" || typeof jwk.x !== "string") throw new DeviceIdentityInvalid({ message: "not an Ed25519 key" })
  return jwk.x
}

/** Lowercase hex SHA-256 of the raw public key bytes (base64url in, as on the wire). */
export const deviceIdOf = (publicKey: string): string => createHash("sha256").update(Buffer.from(publicKey, "base64url")).digest("hex")

const identityOf = (privateKey: KeyObject): DeviceIdentity => {
  const publicKey = rawPublicKey(createPublicKey(privateKey))
  return { deviceId: deviceIdOf(publicKey), publicKey, privateKey }
}

/** A fresh Ed25519 identity. */
export const generateDeviceIdentity = (): DeviceIdentity => identityOf(generateKeyPairSync("ed25519").privateKey)

/**
 * The gateway's metadata normalisation (docs/gateway-protocol.md §2.3): trimmed, ASCII A–Z
 * lowercased.
 */
const normalizeMetadata = (value: string | undefined): string => (value ?? "").trim().replace(/[A-Z]/g, (char) => char.toLowerCase())

/**
 * The exact UTF-8 string a device signs (docs/gateway-protocol.md §2.3):
 * `v3|deviceId|client.id|client.mode|role|scopes,joined|signedAt|token|nonce|platform|deviceFamily`.
 */
export const deviceAuthPayloadV3 = (deviceId: string, fields: ConnectSignatureFields): string =>
  [
    "v3",
    deviceId,
    fields.clientId,
    fields.clientMode,
    fields.role,
    fields.scopes.join(","),
    String(fields.signedAt),
    fields.token ?? "",
    fields.nonce,
    normalizeMetadata(fields.platform),
    normalizeMetadata(fields.deviceFamily)
  ].join("|")

/** The Ed25519 signature (base64url) over `deviceAuthPayloadV3` for `connect.params.device.signature`. */
export const signConnect = (identity: DeviceIdentity, fields: ConnectSignatureFields): string =>
  sign(null, Buffer.from(deviceAuthPayloadV3(identity.deviceId, fields), "utf8"), identity.privateKey).toString("base64url")

const Stored = z.object({
  v: z.literal(1),
  deviceId: z.string(),
  publicKey: z.string(),
  /** PKCS#8 DER, base64url. */
  privateKey: z.string()
})

/** The identity as text for storage (`{v:1, deviceId, publicKey, privateKey: PKCS#8 DER base64url}`); encrypt it. */
export const serializeDeviceIdentity = (identity: DeviceIdentity): Redacted.Redacted<string> =>
  Redacted.make(
    JSON.stringify({
      v: 1,
      deviceId: identity.deviceId,
      publicKey: identity.publicKey,
      privateKey: identity.privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url")
    } satisfies z.infer<typeof Stored>)
  )

/**
 * Reads back `serializeDeviceIdentity`'s text; the public key and id are re-derived from the
 * private key and must match what was stored. Throws `DeviceIdentityInvalid` (no key material in
 * its message).
 */
export const parseDeviceIdentity = (text: Redacted.Redacted<string>): DeviceIdentity => {
  let stored: z.infer<typeof Stored>
  let privateKey: KeyObject
  try {
    stored = Stored.parse(JSON.parse(Redacted.value(text)))
    privateKey = createPrivateKey({ key: Buffer.from(stored.privateKey, "base64url"), format: "der", type: "pkcs8" })
  } catch {
    throw new DeviceIdentityInvalid({ message: "stored device identity is not a v1 Ed25519 identity" })
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new DeviceIdentityInvalid({ message: "stored device key is not Ed25519" })
  const identity = identityOf(privateKey)
  if (identity.publicKey !== stored.publicKey || identity.deviceId !== stored.deviceId) {
    throw new DeviceIdentityInvalid({ message: "stored device id or public key does not match its private key" })
  }
  return identity
}
