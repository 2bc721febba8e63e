import { randomUUID } from "node:crypto"
import { Redacted } from "effect"
import WebSocket from "ws"
import { ConnectChallenge, HelloOk, PROTOCOL_VERSION, type EventFrame, type ResponseFrame } from "./protocol.ts"
import { readFrame } from "./readFrame.ts"
import { connectParams, connectRejected, type ConnectionFailure } from "./connectParams.ts"
import type { DeviceIdentity } from "./DeviceIdentity.ts"
import { GatewayConnectionError, isTransientCloseCode } from "./GatewayError.ts"
import { reconnectDelayMs } from "./retryPolicies.ts"

export interface ConnectionOptions {
  readonly url: string
  /** The gateway's shared token; only ever sent inside the `connect` frame. Empty: none (device token only). */
  readonly token: Redacted.Redacted<string>
  /**
   * A device identity makes `connect` carry a signed `device` proof, plus `auth.deviceToken`
   * once one is known (docs/gateway-protocol.md §0.4, §2.3). Needed for a non-loopback gateway.
   */
  readonly device?: { readonly identity: DeviceIdentity; readonly deviceToken?: Redacted.Redacted<string> | undefined } | undefined
  /** Called with `hello-ok.auth.deviceToken` whenever it differs from the one this connection knew. */
  readonly onDeviceToken?: ((deviceToken: Redacted.Redacted<string>) => void) | undefined
  /** Extra headers on the WebSocket upgrade request (tests: `X-Forwarded-For` behind a trusted proxy). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Handshake budget in ms (OpenClaw's own client uses 15 000; docs/gateway-protocol.md §1). */
  readonly handshakeTimeoutMs: number
  readonly clientVersion: string
  readonly onEvent: (frame: EventFrame) => void
  readonly onStatus?: (status: ConnectionStatus) => void
}

export type ConnectionStatus = "connecting" | "ready" | "closed"

export type { ConnectionFailure } from "./connectParams.ts"

interface Pending {
  readonly resolve: (frame: ResponseFrame) => void
  readonly reject: (error: GatewayConnectionError) => void
  /** The socket the request went out on: only its close fails the request. */
  readonly socket: WebSocket
}

/** What Switchyard needs of a socket: agent, file and config writes need admin (docs/gateway-protocol.md §4). */
const REQUIRED_SCOPES = ["operator.read", "operator.write", "operator.admin"] as const

/** Silence (no frame, no ping) after which a socket counts as dead: 2 × tick, as OpenClaw's own client (docs/gateway-protocol.md §1). */
const silenceLimitMs = (hello: HelloOk | undefined) => 2 * (hello?.policy.tickIntervalMs ?? 30_000)

/**
 * One persistent, multiplexed WebSocket to one gateway (docs/gateway-protocol.md §1–§2). It connects on
 * the first request, answers `connect.challenge` as `gateway-client`/`backend` with token auth
 * (plus a device proof and device token when it has an identity), matches responses to requests
 * by id (they may arrive out of order), and after an unexpected close (1012 restart, 4001 policy
 * change, 1013 starting, network loss) reconnects in the background with jittered backoff. Calls
 * pending at a close fail with a retryable `GatewayConnectionError`; retrying is the caller's
 * schedule's job. A device awaiting approval fails with `GatewayPairingRequired` (never retried
 * in the background).
 */
export class GatewayConnection {
  private socket: WebSocket | undefined
  private ready: Promise<void> | undefined
  private readonly pending = new Map<string, Pending>()
  private reconnectTimer: NodeJS.Timeout | undefined
  private reconnectAttempt = 0
  /** Set by `dispose`: what every pending and later call fails with. */
  private disposed: GatewayConnectionError | undefined
  /** Number of sockets this connection has opened (one per successful or failed dial). */
  opened = 0
  /** The last `hello-ok`, without `auth.deviceToken` and without the state snapshot it carries. */
  hello: HelloOk | undefined
  /** The device token sent on the next dial: the configured one, then the latest issued. */
  private deviceToken: Redacted.Redacted<string> | undefined

  private readonly options: ConnectionOptions

  constructor(options: ConnectionOptions) {
    this.options = options
    this.deviceToken = options.device?.deviceToken
  }

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
      this.pending.set(id, { resolve, reject, socket })
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
    if (this.disposed !== undefined) return Promise.reject(this.disposed)
    if (this.ready === undefined) {
      this.ready = this.dial().catch((error: unknown) => {
        this.ready = undefined
        throw error
      })
    }
    return this.ready
  }

  /**
   * Closes the socket for good; pending and later calls fail: `replaced` (a caller brought a new url
   * or credentials; a retry goes out on the new socket) is retryable; `retargeted` (`GatewayClient.forget`:
   * the stored gateway changed or moved) is not retried as a call, but its step is, with the gateway
   * read anew (docs/architecture.md §9.1 "Update"); `shutdown` is final.
   */
  dispose(reason: "shutdown" | "replaced" | "retargeted" = "shutdown"): void {
    this.disposed =
      reason === "retargeted"
        ? new GatewayConnectionError({ reason: "retargeted", message: "the socket was dropped: the gateway was retargeted, moved or removed", retryable: false })
        : new GatewayConnectionError({ reason: "closed", message: `connection ${reason === "replaced" ? "replaced" : "disposed"}`, retryable: reason === "replaced" })
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
    this.socket?.close(1000, "client shutdown")
    this.failPending(this.disposed)
  }

  private dial(): Promise<void> {
    this.options.onStatus?.("connecting")
    this.opened += 1
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.options.url, {
        handshakeTimeout: this.options.handshakeTimeoutMs,
        ...(this.options.headers === undefined ? {} : { headers: { ...this.options.headers } })
      })
      this.socket = socket
      let handshaking = true
      let wasReady = false
      const connectId = randomUUID()
      const timer = setTimeout(() => {
        fail(new GatewayConnectionError({ reason: "handshake", message: "handshake timed out", retryable: true }))
        socket.terminate()
      }, this.options.handshakeTimeoutMs)
      const fail = (error: ConnectionFailure) => {
        if (!handshaking) return
        handshaking = false
        clearTimeout(timer)
        // A handshake cut short by `dispose` fails as the disposal says (a retargeted one as `retargeted`).
        reject(this.disposed ?? error)
        // A refused or broken handshake leaves nothing worth keeping open.
        if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate()
      }
      // A half-open socket (network gone, no FIN) never closes by itself: silence ends it.
      let watchdog: NodeJS.Timeout | undefined
      const heard = () => {
        if (!wasReady) return
        if (watchdog !== undefined) clearTimeout(watchdog)
        watchdog = setTimeout(() => socket.terminate(), silenceLimitMs(this.hello))
        watchdog.unref()
      }
      socket.on("ping", heard)

      socket.on("message", (data) => {
        heard()
        const frame = readFrame(data, () => !handshaking && this.hello?.features?.methods.includes("health") === true)
        if (frame === undefined) return
        if (handshaking) {
          if (frame.type === "event" && frame.event === "connect.challenge") {
            const challenge = ConnectChallenge.safeParse(frame.payload)
            if (!challenge.success) return fail(handshakeError("malformed connect.challenge"))
            const params = connectParams(this.options, this.deviceToken, challenge.data)
            socket.send(JSON.stringify({ type: "req", id: connectId, method: "connect", params }))
          } else if (frame.type === "res" && frame.id === connectId) {
            if (!frame.ok) return fail(connectRejected(frame, this.options.device?.identity.deviceId))
            const hello = HelloOk.safeParse(frame.payload)
            if (!hello.success) return fail(handshakeError("malformed hello-ok"))
            // hello-ok.auth.scopes is the socket's live authority (docs/gateway-protocol.md §2.4): a
            // socket without admin would fail every lifecycle call one by one, so refuse it here.
            if (hello.data.protocol !== PROTOCOL_VERSION) return fail(handshakeError(`gateway speaks protocol ${hello.data.protocol}, not ${PROTOCOL_VERSION}`))
            const missing = REQUIRED_SCOPES.filter((scope) => !hello.data.auth.scopes.includes(scope))
            if (missing.length > 0) {
              return fail(
                new GatewayConnectionError({
                  reason: "auth",
                  message: `the gateway granted scopes [${hello.data.auth.scopes.join(", ")}], without ${missing.join(", ")}: a remote gateway needs this device paired`,
                  retryable: false
                })
              )
            }
            const { deviceToken, ...auth } = hello.data.auth
            // Only what is read of it: hello-ok also carries the gateway's state (`snapshot`: health
            // with every agent, presence), hundreds of bytes per agent kept for the socket's life.
            const { type, protocol, server, features, policy } = hello.data
            this.hello = { type, protocol, server, auth, policy, ...(features === undefined ? {} : { features }) }
            if (deviceToken !== undefined) this.deviceTokenIssued(deviceToken)
            handshaking = false
            clearTimeout(timer)
            this.reconnectAttempt = 0
            wasReady = true
            heard()
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
        if (watchdog !== undefined) clearTimeout(watchdog)
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
            // A socket that was working and closes (a proxy's idle 1000, an oversized frame's 1009)
            // is reopened below, so its calls may be retried too; only an auth close (1008) is final.
            retryable: isTransientCloseCode(code) || code === 1005 || (wasReady && code !== 1008)
          }),
          socket
        )
        if (wasReady) this.scheduleReconnect()
      })
    })
  }

  private deviceTokenIssued(issued: string): void {
    if (this.options.device === undefined || (this.deviceToken !== undefined && Redacted.value(this.deviceToken) === issued)) return
    const deviceToken = Redacted.make(issued)
    this.deviceToken = deviceToken
    try {
      this.options.onDeviceToken?.(deviceToken)
    } catch {
      // The owner's callback must not break the socket; it reports its own failures.
    }
  }

  private scheduleReconnect(): void {
    if (this.disposed !== undefined || this.reconnectTimer !== undefined) return
    const delay = reconnectDelayMs(this.reconnectAttempt++)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      this.connect().catch((error: unknown) => {
        if (error instanceof GatewayConnectionError && error.retryable) this.scheduleReconnect()
      })
    }, delay)
    this.reconnectTimer.unref()
  }

  /** Fails the pending calls sent on `socket` (all of them when none is named). */
  private failPending(error: GatewayConnectionError, socket?: WebSocket): void {
    for (const [id, entry] of [...this.pending]) {
      if (socket !== undefined && entry.socket !== socket) continue
      this.pending.delete(id)
      entry.reject(error)
    }
  }
}

const handshakeError = (message: string) =>
  new GatewayConnectionError({ reason: "handshake", message, retryable: false })
