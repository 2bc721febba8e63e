import { Data, Effect } from "effect"
import { GatewayClient, type GatewayHello, type GatewayTarget } from "../gateway/GatewayClient.ts"
import type { GatewayConnectionError, GatewayPairingRequired } from "../gateway/GatewayError.ts"
import { compareCalVer, parseCalVer } from "./calVer.ts"

/** The gateway could not be reached (refused, DNS, TLS, timeout). HTTP: 502. */
export class GatewayUnreachable extends Data.TaggedError("GatewayUnreachable")<{ readonly url: string; readonly reason: string }> {
  override get message(): string {
    return `gateway at ${this.url} is unreachable: ${this.reason}`
  }
}

/**
 * The gateway answered but cannot be used: too old a release, another protocol, a refused token,
 * or missing operator scopes. Retrying does not help; the operator must change something. HTTP: 422.
 */
export class GatewayIncompatible extends Data.TaggedError("GatewayIncompatible")<{
  readonly url: string
  readonly reason: string
  readonly serverVersion?: string | undefined
}> {
  override get message(): string {
    return `gateway at ${this.url} cannot be used: ${this.reason}`
  }
}

/**
 * Ids of throwaway targets (an unsaved url and token being checked): their socket is closed by
 * the probe itself, so the janitor must not take it for a deleted gateway's.
 */
export const PROBE_ID_PREFIX = "probe-"

/** A target id for probing an unsaved url and token. */
export const probeTargetId = (): string => `${PROBE_ID_PREFIX}${crypto.randomUUID()}`

export type ProbeError = GatewayUnreachable | GatewayIncompatible | GatewayPairingRequired

/** What a probe learnt, as `/gateways/{id}/status` shows it. */
export interface GatewayRuntime extends GatewayHello {
  /** False for a build without a CalVer version (`dev`): accepted on its protocol alone. */
  readonly versionChecked: boolean
}

const classify = (target: GatewayTarget, error: GatewayConnectionError | GatewayPairingRequired): ProbeError => {
  if (error._tag === "GatewayPairingRequired") return error
  switch (error.reason) {
    case "unreachable":
    // A probe's target is never pinned; a stale one would be unreachable as it stands.
    case "retargeted":
      return new GatewayUnreachable({ url: target.url, reason: error.message })
    case "closed":
      // 1002 is how the gateway ends a handshake in another protocol (docs/gateway-protocol.md §1, §9).
      return error.closeCode === 1002
        ? new GatewayIncompatible({ url: target.url, reason: `protocol mismatch (closed with 1002): ${error.message}` })
        : new GatewayUnreachable({ url: target.url, reason: error.message })
    case "handshake":
      // A handshake that timed out (retryable) is a gateway not answering; a malformed one is not ours to fix by retrying.
      return error.retryable
        ? new GatewayUnreachable({ url: target.url, reason: error.message })
        : new GatewayIncompatible({ url: target.url, reason: error.message })
    case "auth":
      return new GatewayIncompatible({ url: target.url, reason: error.message })
  }
}

/**
 * The runtime check of gateway create/update and `status` (docs/operations.md §6.6): open the
 * target's socket (protocol 4 and the operator scopes are checked by the handshake), then compare
 * `hello-ok.server.version` with `minVersion` (CalVer `YYYY.M.D`).
 * Input: a target (an unsaved one gets a throwaway id) and the minimum version.
 * Output: the server's version, protocol, methods and events.
 * Errors: GatewayUnreachable (502), GatewayIncompatible (422), GatewayPairingRequired (the
 * device waits for approval; its message carries the request id).
 */
export const probeGateway = Effect.fn("Gateways.probe")(function* (target: GatewayTarget, minVersion: string) {
  const client = yield* GatewayClient
  const hello = yield* client.connect(target).pipe(Effect.mapError((error) => classify(target, error)))
  const version = parseCalVer(hello.serverVersion)
  if (version === undefined) {
    yield* Effect.logWarning(`gateway ${target.id} reports version "${hello.serverVersion}", not CalVer; accepted on protocol ${hello.protocol}`)
    return { ...hello, versionChecked: false } satisfies GatewayRuntime
  }
  const minimum = parseCalVer(minVersion)
  if (minimum !== undefined && compareCalVer(version, minimum) < 0) {
    return yield* new GatewayIncompatible({
      url: target.url,
      serverVersion: hello.serverVersion,
      reason: `OpenClaw ${hello.serverVersion} is older than the minimum ${minVersion}; upgrade the gateway`
    })
  }
  return { ...hello, versionChecked: true } satisfies GatewayRuntime
})
