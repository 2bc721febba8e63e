import type { SimulatorInternals, SimulatorState } from "./SimulatorState.ts"

/** The `error` of a `res` frame (docs/gateway-protocol.md §1, §3). */
export interface RpcError {
  code: string
  message: string
  details?: unknown
  retryable?: boolean
  retryAfterMs?: number
}

/** What a method handler answers: the `res` frame minus `type`/`id`. */
export type Reply = { ok: true; payload: unknown } | { ok: false; error: RpcError; payload?: unknown }

/** Everything a method handler may touch. */
export interface SimulatorContext {
  state: SimulatorState
  internals: SimulatorInternals
  agentReadyDelayMs: number
  now(): number
  /**
   * Sends an event to every handshaken connection; with `topic` "sessions", only to those that
   * called `sessions.subscribe` (as the real gateway gates `sessions.changed`).
   */
  broadcast(event: string, payload: unknown, topic?: "sessions"): void
  /** Subscribes the calling connection to `topic` (`sessions.subscribe`); a no-op outside a request. */
  subscribe(topic: "sessions"): void
  /** Runs `fn` after `ms`, unless the simulator stops first. */
  later(ms: number, fn: () => void): void
  /** How long a chat run takes to fail as it does without model credentials, ms; undefined: runs never end. */
  failRunsAfterMs: number | undefined
  /** Runs `fn` right after the current reply has been sent (e.g. the 4001 close of docs/gateway-protocol.md §0.7). */
  afterReply(fn: () => void): void
  /** Closes every open socket. */
  closeAll(code: number, reason: string): void
}

export type MethodHandler = (params: Record<string, unknown>, ctx: SimulatorContext) => Reply

/** A successful reply. */
export const ok = (payload: unknown): Reply => ({ ok: true, payload })

/** A refusal with any top-level code (docs/gateway-protocol.md §3 `ErrorCodes`). */
export function fail(code: string, message: string, extra: Omit<RpcError, "code" | "message"> = {}): Reply {
  return { ok: false, error: { code, message, ...extra } }
}

/** The gateway's most common refusal, `INVALID_REQUEST`. */
export const invalid = (message: string, extra: Omit<RpcError, "code" | "message"> = {}): Reply =>
  fail("INVALID_REQUEST", message, extra)
