import { Effect, Either, type Option } from "effect"
import type { GatewayTarget } from "../gateway/GatewayClient.ts"
import { describeGatewayError } from "../gateway/GatewayError.ts"
import { listSessions, type GatewaySession } from "./listSessions.ts"
import type { QueryBudget } from "./QueryBudget.ts"
import { GatewayUnreachable, probeGateway, type ProbeError } from "./probeGateway.ts"

/** What `/gateways/{id}/status` and `/gateways/status` show (Mission Control's status shape plus the probe's findings, docs/operations.md §6.7). */
export interface GatewayStatus {
  /** True once the handshake, the version check and `sessions.list` all succeeded. */
  readonly connected: boolean
  readonly gatewayUrl: string
  /** `hello-ok.server.version`; also set when the gateway answered but was refused as too old. */
  readonly serverVersion: string | null
  readonly protocol: number | null
  /** Whether the version was compared with the minimum (false for a non-CalVer build such as `dev`). */
  readonly versionChecked: boolean | null
  /** Null when not connected (unknown, not empty). */
  readonly sessions: ReadonlyArray<GatewaySession> | null
  readonly mainSession: GatewaySession | null
  readonly mainSessionError: string | null
  /** Why `connected` is false, secret-free; null when connected. */
  readonly error: string | null
  /** Set while this service's device awaits an operator's approval on the gateway. */
  readonly pairing: { readonly requestId: string | null } | null
}

const disconnected = (url: string, error: ProbeError): GatewayStatus => ({
  connected: false,
  gatewayUrl: url,
  serverVersion: error._tag === "GatewayIncompatible" ? (error.serverVersion ?? null) : null,
  protocol: null,
  versionChecked: null,
  sessions: null,
  mainSession: null,
  mainSessionError: null,
  error: error.message,
  pairing: error._tag === "GatewayPairingRequired" ? { requestId: error.requestId ?? null } : null
})

/**
 * Probes a gateway and reads its sessions (docs/operations.md §6.7; the version check comes first,
 * §6.6): `probeGateway` (handshake, protocol, scopes, CalVer minimum), then `listSessions` with the
 * main session ensured. Never fails: an unreachable, refused, too old or unpaired gateway is an
 * answer with `connected:false` and `error`, the handshake's at once (a status reports it, not
 * rides it out). The whole answer is bounded by `budget`: the handshake by all of it, then the
 * listing by what is left, its transient refusals retried meanwhile (`withinBudget`).
 * Input: the target, the main agent's session key if any, the minimum version, the budget.
 */
export const inspectGateway = Effect.fn("GatewayQueries.inspect")(function* (input: {
  readonly target: GatewayTarget
  readonly mainKey: Option.Option<string>
  readonly minVersion: string
  readonly budget: QueryBudget
}) {
  const { target, budget } = input
  const timeoutMs = budget.budgetMs
  const probed = yield* Effect.either(
    probeGateway(target, input.minVersion).pipe(
      Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new GatewayUnreachable({ url: target.url, reason: `no handshake within ${timeoutMs} ms` }) })
    )
  )
  if (Either.isLeft(probed)) return disconnected(target.url, probed.left)
  const runtime = probed.right
  const reached = { gatewayUrl: target.url, serverVersion: runtime.serverVersion, protocol: runtime.protocol, versionChecked: runtime.versionChecked, pairing: null }
  const listed = yield* Effect.either(listSessions(target, input.mainKey, budget))
  if (Either.isLeft(listed)) {
    return { ...reached, connected: false, sessions: null, mainSession: null, mainSessionError: null, error: describeGatewayError(listed.left) } satisfies GatewayStatus
  }
  return { ...reached, connected: true, ...listed.right, error: null } satisfies GatewayStatus
})
