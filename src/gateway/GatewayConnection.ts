import { randomUUID } from "node:crypto"
import WebSocket from "ws"
import {
  BACKEND_CLIENT,
  ConnectChallenge,
  HelloOk,
  OPERATOR_SCOPES,
  PROTOCOL_VERSION,
  ServerFrame,
  type EventFrame,
  type ResponseFrame
} from "./protocol.ts"
import { GatewayConnectionError, isTransientCloseCode } from "./GatewayError.ts"
import { reconnectDelayMs } from "./retryPolicies.ts"

export interface ConnectionOptions {
  readonly url: string
  /** The gateway's shared token; only ever sent inside the `connect` frame. */
  readonly token: string
  /** Handshake budget in ms (the reference client uses 15 000). */
  readonly handshakeTimeoutMs: number
  readonly clientVersion: string
  readonly onEvent: (frame: EventFrame) => void
  readonly onStatus?: (status: ConnectionStatus) => void
}

export type ConnectionStatus = "connecting" | "ready" | "closed"

interface Pending {
  readonly resolve: (frame: ResponseFrame) => void
  readonly reject: (error: GatewayConnectionError) => void
}

/**
 * One persistent, multiplexed WebSocket to one gateway (gateway protocol §1–§2). It connects on
 * the first request, answers `connect.challenge` as `gateway-client`/`backend` with token auth,
 * matches responses to requests by id (they may arrive out of order), and after an unexpected
 * close (1012 restart, 4001 policy change, 1013 starting, network loss) reconnects in the
 * background with jittered backoff. Calls pending at a close fail with a retryable
 * `GatewayConnectionError`; retrying is the caller's schedule's job.
 */
export class GatewayConnection {
  private socket: WebSocket | undefined
  private ready: Promise<void> | undefined
  private readonly pending = new Map<string, Pending>()
  private reconnectTimer: NodeJS.Timeout | undefined
  private reconnectAttempt = 0
  private disposed = false
  /** Number of sockets this connection has opened (one per successful or failed dial). */
  opened = 0
  hello: HelloOk | undefined

  constructor(private readonly options: ConnectionOptions) {}

  /**
   * Sends one request frame and resolves with its response frame (ok or not). A caller that
   * gave up (`signal` aborted) while the socket was still connecting sends nothing.
   */
  async request(id: string, method: string, params: unknown, signal?: AbortSignal): Promise<ResponseFrame> {
    await this.connect()
    if (signal?.aborted === true) {
      throw new GatewayConnectionError({ reason: "closed", message: "caller gave up before the request was sent", retryable: true })
    }
    const socket = this.socket
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      throw new GatewayConnectionError({ reason: "closed", message: "socket not open", retryable: true })
    }
    return new Promise<ResponseFrame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      socket.send(JSON.stringify({ type: "req", id, method, params }), (error) => {
        if (error !== undefined && error !== null) {
          this.pending.delete(id)
          reject(new GatewayConnectionError({ reason: "closed", message: error.message, retryable: true }))
        }
      })
    })
  }

  /** Forgets a request whose caller gave up (timeout or interruption); a late answer is dropped. */
  cancel(id: string): void {
    this.pending.delete(id)
  }

  /** Opens the socket if needed; concurrent callers share one handshake. */
  connect(): Promise<void> {
    if (this.disposed) {
      return Promise.reject(new GatewayConnectionError({ reason: "closed", message: "connection disposed", retryable: false }))
    }
    if (this.ready === undefined) {
      this.ready = this.dial().catch((error: unknown) => {
        this.ready = undefined
        throw error
      })
    }
    return this.ready
  }

  /** Closes the socket for good and fails pending calls. */
  dispose(): void {
    this.disposed = true
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
    this.socket?.close(1000, "client shutdown")
    this.failPending(new GatewayConnectionError({ reason: "closed", message: "connection disposed", retryable: false }))
  }

  private dial(): Promise<void> {
    this.options.onStatus?.("connecting")
    this.opened += 1
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.options.url, { handshakeTimeout: this.options.handshakeTimeoutMs })
      this.socket = socket
      let handshaking = true
      let wasReady = false
      const connectId = randomUUID()
      const timer = setTimeout(() => {
        fail(new GatewayConnectionError({ reason: "handshake", message: "handshake timed out", retryable: true }))
        socket.terminate()
      }, this.options.handshakeTimeoutMs)
      const fail = (error: GatewayConnectionError) => {
        if (!handshaking) return
        handshaking = false
        clearTimeout(timer)
        reject(error)
      }

      socket.on("message", (data) => {
        const frame = parseFrame(data.toString())
        if (frame === undefined) return
        if (handshaking) {
          if (frame.type === "event" && frame.event === "connect.challenge") {
            const challenge = ConnectChallenge.safeParse(frame.payload)
            if (!challenge.success) return fail(handshakeError("malformed connect.challenge"))
            socket.send(JSON.stringify({ type: "req", id: connectId, method: "connect", params: this.connectParams() }))
          } else if (frame.type === "res" && frame.id === connectId) {
            if (!frame.ok) return fail(connectRejected(frame))
            const hello = HelloOk.safeParse(frame.payload)
            if (!hello.success) return fail(handshakeError("malformed hello-ok"))
            this.hello = hello.data
            handshaking = false
            clearTimeout(timer)
            this.reconnectAttempt = 0
            wasReady = true
            this.options.onStatus?.("ready")
            resolve()
          }
          return
        }
        if (frame.type === "res") {
          const pending = this.pending.get(frame.id)
          if (pending === undefined) return
          this.pending.delete(frame.id)
          pending.resolve(frame)
        } else {
          this.options.onEvent(frame)
        }
      })

      socket.on("error", (error) => {
        fail(new GatewayConnectionError({ reason: "unreachable", message: error.message, retryable: true }))
      })

      socket.on("close", (code, reasonBuffer) => {
        const reason = reasonBuffer.toString()
        fail(
          new GatewayConnectionError({
            reason: code === 1008 ? "auth" : "handshake",
            message: reason || "closed during handshake",
            closeCode: code,
            retryable: code !== 1008
          })
        )
        if (this.socket === socket) {
          this.socket = undefined
          this.ready = undefined
        }
        this.options.onStatus?.("closed")
        this.failPending(
          new GatewayConnectionError({
            reason: "closed",
            message: reason || "socket closed",
            closeCode: code,
            retryable: isTransientCloseCode(code) || code === 1005
          })
        )
        if (wasReady) this.scheduleReconnect()
      })
    })
  }

  private connectParams() {
    return {
      minProtocol: PROTOCOL_VERSION,
      maxProtocol: PROTOCOL_VERSION,
      client: { ...BACKEND_CLIENT, version: this.options.clientVersion, platform: process.platform },
      role: "operator",
      scopes: [...OPERATOR_SCOPES],
      auth: { token: this.options.token }
    }
  }

  private scheduleReconnect(): void {
    if (this.disposed || this.reconnectTimer !== undefined) return
    const delay = reconnectDelayMs(this.reconnectAttempt++)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      this.connect().catch((error: unknown) => {
        if (error instanceof GatewayConnectionError && error.retryable) this.scheduleReconnect()
      })
    }, delay)
    this.reconnectTimer.unref()
  }

  private failPending(error: GatewayConnectionError): void {
    const entries = [...this.pending.values()]
    this.pending.clear()
    for (const entry of entries) entry.reject(error)
  }
}

const parseFrame = (text: string): ServerFrame | undefined => {
  try {
    const parsed = ServerFrame.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

const handshakeError = (message: string) =>
  new GatewayConnectionError({ reason: "handshake", message, retryable: false })

/** `connect` refused: `UNAVAILABLE` while sidecars start is transient (protocol §2.5); auth is not. */
const connectRejected = (frame: ResponseFrame): GatewayConnectionError => {
  const error = frame.error
  const retryable = error?.retryable === true || error?.code === "UNAVAILABLE"
  return new GatewayConnectionError({
    reason: retryable ? "handshake" : "auth",
    message: `${error?.code ?? "ERROR"}: ${error?.message ?? "connect rejected"}`,
    retryable,
    retryAfterMs: error?.retryAfterMs
  })
}
