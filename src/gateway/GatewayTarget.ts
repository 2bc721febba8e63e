import { createHash } from "node:crypto"
import { type Effect, Redacted } from "effect"
import type { DeviceIdentity } from "./DeviceIdentity.ts"

/** This service's identity towards one gateway (docs/gateway-protocol.md §0.4, §2.3). */
export interface GatewayDevice {
  readonly identity: DeviceIdentity
  /** Issued by the gateway once an operator approved the pairing (`hello-ok.auth.deviceToken`). */
  readonly deviceToken?: Redacted.Redacted<string> | undefined
}

/**
 * Where a gateway is and how to authenticate; tokens stay `Redacted` end to end. A loopback
 * gateway needs only `token`. A remote one needs `device` too: the first `connect` then fails
 * with `GatewayPairingRequired` until an operator approves it, and the device token the gateway
 * issues afterwards is handed to `onDeviceToken` for storage. An empty `token` means "device
 * token only".
 */
export interface GatewayTarget {
  readonly id: string
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly device?: GatewayDevice | undefined
  /**
   * Run (in the background, failures logged without detail) when the gateway issues a device
   * token this socket did not know; store it, e.g. `GatewayRepo.setDeviceToken`.
   */
  readonly onDeviceToken?: ((deviceToken: Redacted.Redacted<string>) => Effect.Effect<void, unknown>) | undefined
  /**
   * Pins the target to the client's generation of this gateway (`GatewayClient.generation`, read
   * before the gateway's row): once the client has forgotten the gateway's socket since (its url or
   * token changed, it moved or went away), a call made with this target fails with
   * `GatewayConnectionError` `retargeted` instead of reaching the old address, as does one that was
   * in flight then. Unset: the target is never stale (docs/architecture.md §9.1 "Update").
   */
  readonly generation?: number | undefined
  /** Extra WebSocket upgrade headers. For tests only (`X-Forwarded-For` to look remote). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** The token's hash by the token's `Redacted` (a stored gateway's is the same one per sealed value). */
const tokenHashes = new WeakMap<Redacted.Redacted<string>, string>()

const tokenHash = (token: Redacted.Redacted<string>) => {
  let hash = tokenHashes.get(token)
  if (hash === undefined) {
    hash = createHash("sha256").update(Redacted.value(token)).digest("hex")
    tokenHashes.set(token, hash)
  }
  return hash
}

/**
 * What makes a new socket necessary; the token enters only as a hash. The device token is left
 * out: the socket learns a newly issued one itself, and storing it must not re-dial. Asked on
 * every call, so the token's hash is kept per token.
 */
export const fingerprintOf = (target: GatewayTarget) =>
  [target.url, tokenHash(target.token), target.device?.identity.deviceId ?? "", target.headers === undefined ? "" : JSON.stringify(target.headers)].join("\u0000")
