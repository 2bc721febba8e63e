import { Redacted } from "effect"
import { signConnect, type DeviceIdentity } from "./DeviceIdentity.ts"
import { GatewayConnectionError, GatewayPairingRequired } from "./GatewayError.ts"
import { BACKEND_CLIENT, OPERATOR_SCOPES, PairingRequiredDetails, PROTOCOL_VERSION, type ResponseFrame } from "./protocol.ts"

/** Why a connection could not serve a request. */
export type ConnectionFailure = GatewayConnectionError | GatewayPairingRequired

interface ConnectAs {
  readonly clientVersion: string
  /** The shared token; empty means none. Unwrapped only into the frame. */
  readonly token: Redacted.Redacted<string>
  readonly device?: { readonly identity: DeviceIdentity } | undefined
}

/**
 * The `connect` params (docs/gateway-protocol.md §2.2) of `gateway-client`/`backend` as an operator with
 * `OPERATOR_SCOPES`. With a device identity they carry `device`, signed over the challenge's
 * nonce and ts, and `auth.deviceToken` when one is known; the signed token is `auth.token`, else
 * `auth.deviceToken` (§2.3). An empty shared token is left out, so the device token alone
 * authenticates.
 */
export const connectParams = (
  as: ConnectAs,
  knownDeviceToken: Redacted.Redacted<string> | undefined,
  challenge: { readonly nonce: string; readonly ts: number }
) => {
  const client = { ...BACKEND_CLIENT, version: as.clientVersion, platform: process.platform }
  const role = "operator"
  const scopes = [...OPERATOR_SCOPES]
  const shared = Redacted.value(as.token)
  const token = shared === "" ? undefined : shared
  const identity = as.device?.identity
  const deviceToken = identity === undefined || knownDeviceToken === undefined ? undefined : Redacted.value(knownDeviceToken)
  const auth = { ...(token === undefined ? {} : { token }), ...(deviceToken === undefined ? {} : { deviceToken }) }
  const signed = { clientId: client.id, clientMode: client.mode, role, scopes, signedAt: challenge.ts, token: token ?? deviceToken, nonce: challenge.nonce, platform: client.platform }
  return {
    minProtocol: PROTOCOL_VERSION,
    maxProtocol: PROTOCOL_VERSION,
    client,
    role,
    scopes,
    ...(token === undefined && deviceToken === undefined ? {} : { auth }),
    ...(identity === undefined
      ? {}
      : {
          device: {
            id: identity.deviceId,
            publicKey: identity.publicKey,
            signature: signConnect(identity, signed),
            signedAt: challenge.ts,
            nonce: challenge.nonce
          }
        })
  }
}

/**
 * `connect` refused: `UNAVAILABLE` while sidecars start is transient (docs/gateway-protocol.md §2.5); auth is not.
 * `NOT_PAIRED` + `details.code: "PAIRING_REQUIRED"` is a device waiting for approval (§0.4).
 */
export const connectRejected = (frame: ResponseFrame, ownDeviceId: string | undefined): ConnectionFailure => {
  const error = frame.error
  const pairing = PairingRequiredDetails.safeParse(error?.details)
  if (error?.code === "NOT_PAIRED" && pairing.success) {
    return new GatewayPairingRequired({
      requestId: pairing.data.requestId,
      deviceId: pairing.data.deviceId ?? ownDeviceId ?? "unknown",
      reason: pairing.data.reason
    })
  }
  const retryable = error?.retryable === true || error?.code === "UNAVAILABLE"
  return new GatewayConnectionError({
    reason: retryable ? "handshake" : "auth",
    message: `${error?.code ?? "ERROR"}: ${error?.message ?? "connect rejected"}`,
    retryable,
    retryAfterMs: error?.retryAfterMs
  })
}
