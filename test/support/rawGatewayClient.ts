import { randomUUID } from "node:crypto"
import WebSocket from "ws"

/** The `error` of a `res` frame, as the gateway sends it (docs/gateway-protocol.md §3). */
export interface RawError {
  code: string
  message: string
  details?: unknown
  retryable?: boolean
  retryAfterMs?: number
}

export interface RawCallResult {
  ok: boolean
  payload?: unknown
  error?: RawError
}

export interface RawEvent {
  event: string
  payload?: unknown
}

export interface RawConnection {
  /** The `hello-ok` payload. */
  hello: unknown
  /** Sends one `req` frame; resolves with the `res` (ok or not), rejects only on timeout or close. */
  call(method: string, params?: unknown): Promise<RawCallResult>
  /** Every event frame received so far, in arrival order, starting with `connect.challenge`. */
  events: Array<RawEvent>
  close(): Promise<void>
}

/**
 * Why `connectRaw` failed: the gateway refused `connect` (`error` set), the socket closed
 * before `hello-ok` (`closeCode` set, e.g. 1013 "gateway starting"), or a transport error
 * (`cause` set, e.g. `ECONNREFUSED`).
 */
export class RawConnectError extends Error {
  readonly error: RawError | undefined
  readonly closeCode: number | undefined
  override readonly cause: unknown
  constructor(message: string, error?: RawError, closeCode?: number, cause?: unknown) {
    super(message)
    this.name = "RawConnectError"
    this.error = error
    this.closeCode = closeCode
    this.cause = cause
  }
}

/** A call failed because its socket closed (`code`: e.g. 1012 on a gateway restart) before the answer came. */
export class RawClosedError extends Error {
  readonly code: number | undefined
  constructor(message: string, code: number | undefined) {
    super(message)
    this.name = "RawClosedError"
    this.code = code
  }
}

const HANDSHAKE_TIMEOUT_MS = 15_000
const CALL_TIMEOUT_MS = 30_000
const SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"]

type Frame =
  | { type: "event"; event: string; payload?: unknown }
  | { type: "res"; id: string; ok: boolean; payload?: unknown; error?: RawError }

/**
 * Opens a WebSocket to an OpenClaw gateway (or the simulator) and completes the protocol 4
 * handshake as `gateway-client`/`backend` with the shared token, no device and no Origin
 * header (docs/gateway-protocol.md §0.3, §2). A deliberately tiny client for tests: no schemas, no retries.
 *
 * Resolves once `hello-ok` arrives (handshake timeout 15 s); each `call` times out after 30 s.
 * Rejects with `RawConnectError`.
 */
export function connectRaw(opts: { url: string; token: string }): Promise<RawConnection> {
  const ws = new WebSocket(opts.url, { perMessageDeflate: false })
  const events: Array<RawEvent> = []
  const pending = new Map<string, (frame: Extract<Frame, { type: "res" }>) => void>()
  const closeWaiters = new Set<(why: string) => void>()
  let closed: string | undefined
  let closeCode: number | undefined
  let nextId = 0

  const send = (method: string, params: unknown, timeoutMs: number): Promise<Extract<Frame, { type: "res" }>> =>
    new Promise((resolve, reject) => {
      if (closed !== undefined) return reject(new RawClosedError(`${method}: ${closed}`, closeCode))
      const id = `r${++nextId}`
      const fail = (why: string) => done(() => reject(closed === undefined ? new Error(`${method}: ${why}`) : new RawClosedError(`${method}: ${why}`, closeCode)))
      const timer = setTimeout(() => fail(`no response within ${timeoutMs} ms`), timeoutMs)
      const done = (settle: () => void) => {
        clearTimeout(timer)
        pending.delete(id)
        closeWaiters.delete(fail)
        settle()
      }
      pending.set(id, (frame) => done(() => resolve(frame)))
      closeWaiters.add(fail)
      const frame = params === undefined ? { type: "req", id, method } : { type: "req", id, method, params }
      ws.send(JSON.stringify(frame))
    })

  ws.on("message", (data) => {
    const frame = parseFrame(data)
    if (frame?.type === "event") {
      events.push(frame.payload === undefined ? { event: frame.event } : { event: frame.event, payload: frame.payload })
    } else if (frame?.type === "res") {
      pending.get(frame.id)?.(frame)
    }
  })
  ws.on("error", () => {}) // surfaced through "close" (and, before hello-ok, through onError)
  ws.on("close", (code, reason) => {
    closeCode = code
    closed = `socket closed (${code} ${String(reason)})`
    for (const fail of [...closeWaiters]) fail(closed)
  })

  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve()
      ws.once("close", () => resolve())
      if (ws.readyState !== WebSocket.CLOSING) ws.close(1000)
    })

  const call = async (method: string, params?: unknown): Promise<RawCallResult> => {
    const res = await send(method, params, CALL_TIMEOUT_MS)
    const result: RawCallResult = { ok: res.ok }
    if (res.payload !== undefined) result.payload = res.payload
    if (res.error !== undefined) result.error = res.error
    return result
  }

  return new Promise<RawConnection>((resolve, reject) => {
    const fail = (err: RawConnectError) => {
      clearTimeout(timer)
      ws.off("error", onError).off("close", onClose).off("message", onChallenge)
      ws.terminate()
      reject(err)
    }
    const timer = setTimeout(
      () => fail(new RawConnectError(`no hello-ok within ${HANDSHAKE_TIMEOUT_MS} ms`)),
      HANDSHAKE_TIMEOUT_MS
    )
    const onError = (cause: Error) =>
      fail(new RawConnectError(`connect failed: ${cause.message}`, undefined, undefined, cause))
    const onClose = (code: number, reason: Buffer) =>
      fail(new RawConnectError(`socket closed before hello-ok (${code} ${String(reason)})`, undefined, code))
    const onChallenge = (data: WebSocket.RawData) => {
      const frame = parseFrame(data)
      if (frame?.type !== "event" || frame.event !== "connect.challenge") return
      ws.off("message", onChallenge)
      send("connect", connectParams(opts.token), HANDSHAKE_TIMEOUT_MS).then(
        (res) => {
          if (!res.ok) {
            const error = res.error ?? { code: "UNKNOWN", message: "connect failed without an error" }
            return fail(new RawConnectError(`connect refused: ${error.code} ${error.message}`, error))
          }
          clearTimeout(timer)
          ws.off("error", onError).off("close", onClose)
          resolve({ hello: res.payload, call, events, close })
        },
        (err: unknown) => fail(new RawConnectError(String(err), undefined, undefined, err))
      )
    }
    ws.on("error", onError).on("close", onClose).on("message", onChallenge)
  })
}

const connectParams = (token: string) => ({
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: "gateway-client", version: "0.1.0", platform: process.platform, mode: "backend", instanceId: randomUUID() },
  role: "operator",
  scopes: SCOPES,
  auth: { token }
})

function parseFrame(data: WebSocket.RawData): Frame | undefined {
  try {
    return JSON.parse(String(data)) as Frame
  } catch {
    return undefined
  }
}
