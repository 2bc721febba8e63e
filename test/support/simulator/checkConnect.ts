import { checkParams, isPlainObject } from "./checkParams.ts"
import { connectParams } from "./methodParams.ts"
import type { RpcError } from "./SimulatorContext.ts"

/** Scopes a local backend gets when it asks for none (docs/gateway-protocol.md §2, observed). */
export const DEFAULT_SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"]

export type ConnectOutcome =
  | { ok: true; role: string; scopes: Array<string> }
  | { ok: false; error: RpcError; closeCode: number; closeReason: string }

interface ConnectInput {
  /** The first frame, parsed. */
  frame: unknown
  token: string
  /** During a simulated restart window. */
  starting: boolean
  /** The upgrade request carried an `Origin` header (browser). */
  hasOrigin: boolean
}

const refuse = (error: RpcError, closeCode: number, closeReason = error.message): ConnectOutcome => ({
  ok: false,
  error,
  closeCode,
  closeReason: closeReason.slice(0, 120)
})

/**
 * Decides a `connect` request in the real gateway's order (`message-handler` of 2026.9.6):
 * frame/params schema (1008) → startup window (UNAVAILABLE, 1013) → protocol range must include 4
 * (PROTOCOL_MISMATCH, 1002) → role → shared token (AUTH_TOKEN_MISMATCH / DEVICE_IDENTITY_REQUIRED,
 * 1008). Device proofs are accepted unchecked; a `test` client or an Origin header gets no scopes
 * (docs/gateway-protocol.md §2.6).
 */
export function checkConnect(input: ConnectInput): ConnectOutcome {
  const frame = input.frame
  if (!isPlainObject(frame) || frame.type !== "req" || typeof frame.id !== "string" || typeof frame.method !== "string") {
    return refuse({ code: "INVALID_REQUEST", message: "invalid request frame" }, 1008)
  }
  if (frame.method !== "connect") {
    return refuse({ code: "INVALID_REQUEST", message: "invalid handshake: first request must be connect" }, 1008)
  }
  const problem = checkParams(connectParams, frame.params)
  if (problem !== undefined) return refuse({ code: "INVALID_REQUEST", message: `invalid connect params: ${problem}` }, 1008)
  const params = frame.params as {
    minProtocol: number
    maxProtocol: number
    client: { id: string; mode: string }
    role?: string
    scopes?: Array<string>
    auth?: { token?: string }
  }
  if (input.starting) {
    const error = { code: "UNAVAILABLE", message: "gateway starting; retry shortly", retryable: true, retryAfterMs: 500, details: { reason: "startup-sidecars" } }
    return refuse(error, 1013, "gateway starting")
  }
  if (!(params.maxProtocol >= 4 && params.minProtocol <= 4)) {
    const details = { code: "PROTOCOL_MISMATCH", clientMinProtocol: params.minProtocol, clientMaxProtocol: params.maxProtocol, expectedProtocol: 4, minimumProbeProtocol: 3 }
    return refuse({ code: "INVALID_REQUEST", message: "protocol mismatch", details }, 1002)
  }
  const role = params.role ?? "operator"
  if (!["operator", "node", "worker"].includes(role)) return refuse({ code: "INVALID_REQUEST", message: "invalid role" }, 1008)
  const token = params.auth?.token
  if (token === undefined || token === "") {
    return refuse({ code: "NOT_PAIRED", message: "device identity required", details: { code: "DEVICE_IDENTITY_REQUIRED" } }, 1008)
  }
  if (token !== input.token) {
    const details = { code: "AUTH_TOKEN_MISMATCH", authReason: "token_mismatch", canRetryWithDeviceToken: false, recommendedNextStep: "update_auth_credentials" }
    return refuse({ code: "INVALID_REQUEST", message: "unauthorized: gateway token mismatch (provide gateway auth token)", details }, 1008)
  }
  const untrusted = input.hasOrigin || params.client.id === "test"
  return { ok: true, role, scopes: untrusted ? [] : [...(params.scopes ?? DEFAULT_SCOPES)] }
}
