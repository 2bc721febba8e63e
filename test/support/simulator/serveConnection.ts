import { randomUUID } from "node:crypto"
import type { IncomingMessage } from "node:http"
import WebSocket from "ws"
import { checkConnect } from "./checkConnect.ts"
import type { ConnectOutcome } from "./checkConnect.ts"
import { isPlainObject } from "./checkParams.ts"
import { dispatchRequest, SIMULATED_METHODS } from "./dispatchRequest.ts"
import type { RateBuckets } from "./dispatchRequest.ts"
import { healthPayload, helloOk } from "./helloOk.ts"
import type { Reply, RpcError, SimulatorContext } from "./SimulatorContext.ts"

/** A fault as `inject` queues it (see `SimulatorFault` in GatewaySimulator.ts). */
export interface QueuedFault {
  method: string
  remaining: number
  error?: RpcError
  hang?: boolean
  closeWith?: number
  handled?: boolean
  payload?: unknown
  when?: (params: unknown) => boolean
}

/** One accepted socket. `seq` numbers its events (docs/gateway-protocol.md §1: per-connection, monotonic). */
export interface Connection {
  ws: WebSocket
  seq: number
  open: boolean
  scopes: Array<string>
  /** Called `sessions.subscribe`: receives `sessions.changed`. */
  sessionsSubscribed: boolean
}

/** What every connection shares: the simulated gateway. */
export interface Hub {
  ctx: SimulatorContext
  version: string
  token: string
  latencyMs: number
  configPatchDelayMs: number
  tickIntervalMs: number
  connections: Set<Connection>
  faults: Array<QueuedFault>
  calls: Array<{ method: string; params: unknown; at: number }>
  buckets: RateBuckets
  isStarting(): boolean
  /** Runs `fn` after `ms`, unless the simulator stops first. */
  later(ms: number, fn: () => void): void
}

/** Sends one event frame with the connection's next `seq`. */
export function sendEvent(conn: Connection, event: string, payload: unknown, extra: Record<string, unknown> = {}): void {
  if (conn.ws.readyState !== WebSocket.OPEN) return
  conn.seq += 1
  conn.ws.send(JSON.stringify({ type: "event", event, payload, seq: conn.seq, ...extra }))
}

function takeFault(hub: Hub, method: string, params?: unknown): QueuedFault | undefined {
  const fault = hub.faults.find((f) => f.method === method && f.remaining > 0 && (f.when === undefined || f.when(params)))
  if (fault !== undefined) fault.remaining -= 1
  return fault
}

const faultError = (fault: QueuedFault): RpcError =>
  fault.error ?? { code: "UNAVAILABLE", message: `simulated fault on ${fault.method}`, retryable: true }

const refusal = (error: RpcError): ConnectOutcome => ({
  ok: false,
  error,
  closeCode: error.code === "UNAVAILABLE" ? 1013 : 1008,
  closeReason: error.message.slice(0, 120)
})

/**
 * Serves one WebSocket: `connect.challenge` on open (docs/gateway-protocol.md §2), then the `connect` handshake,
 * then requests. Injected faults win over normal handling; `latencyMs` delays every response.
 */
export function serveConnection(hub: Hub, ws: WebSocket, req: IncomingMessage): void {
  const conn: Connection = { ws, seq: 0, open: false, scopes: [], sessionsSubscribed: false }
  let handshake: "waiting" | "pending" | "done" = "waiting"
  hub.connections.add(conn)
  ws.on("close", () => hub.connections.delete(conn))
  ws.on("error", () => {})
  ws.send(JSON.stringify({
    type: "event",
    event: "connect.challenge",
    payload: { nonce: randomUUID(), ts: hub.ctx.now(), capabilities: ["model-catalog-snapshot"] }
  }))

  const respond = (id: string, reply: Reply, delayMs: number, after: Array<() => void> = []) =>
    hub.later(delayMs, () => {
      if (ws.readyState !== WebSocket.OPEN) return
      ws.send(JSON.stringify({ type: "res", id, ...reply }))
      for (const fn of after) fn()
    })

  const onConnect = (frame: unknown) => {
    handshake = "pending"
    const id = isPlainObject(frame) && typeof frame.id === "string" ? frame.id : ""
    const fault = takeFault(hub, "connect")
    if (fault?.hang === true) return
    if (fault?.closeWith !== undefined) return ws.close(fault.closeWith)
    // An injected connect error closes like the real refusals: 1013 when UNAVAILABLE, else 1008.
    const outcome: ConnectOutcome = fault !== undefined
      ? refusal(faultError(fault))
      : checkConnect({ frame, token: hub.token, starting: hub.isStarting(), hasOrigin: req.headers.origin !== undefined })
    if (!outcome.ok) {
      return respond(id, { ok: false, error: outcome.error }, hub.latencyMs, [() => ws.close(outcome.closeCode, outcome.closeReason)])
    }
    const hello = helloOk(hub.ctx, {
      version: hub.version,
      connId: randomUUID(),
      scopes: outcome.scopes,
      role: outcome.role,
      tickIntervalMs: hub.tickIntervalMs,
      methods: SIMULATED_METHODS
    })
    respond(id, { ok: true, payload: hello }, hub.latencyMs, [
      () => {
        handshake = "done"
        conn.open = true
        conn.scopes = outcome.scopes
        // The real gateway only broadcasts `health` on its 60 s refresh (the recorded first client
        // happened to get one as seq 1); sending it at once keeps simulated clients from waiting.
        sendEvent(conn, "health", healthPayload(hub.ctx), { stateVersion: { presence: 1, health: 1 } })
      }
    ])
  }

  const onRequest = (frame: Record<string, unknown>) => {
    const id = frame.id
    const method = frame.method
    if (frame.type !== "req" || typeof id !== "string" || id === "" || typeof method !== "string") {
      if (typeof id === "string" && id !== "") respond(id, { ok: false, error: { code: "INVALID_REQUEST", message: "invalid request frame" } }, 0)
      return
    }
    hub.calls.push({ method, params: frame.params, at: hub.ctx.now() })
    const fault = takeFault(hub, method, frame.params)
    if (fault?.hang === true) return
    if (fault !== undefined && fault.handled !== true) {
      if (fault.closeWith !== undefined) return ws.close(fault.closeWith)
      return respond(id, { ok: false, error: faultError(fault), ...(fault.payload === undefined ? {} : { payload: fault.payload }) }, hub.latencyMs)
    }
    const after: Array<() => void> = []
    const ctx: SimulatorContext = {
      ...hub.ctx,
      afterReply: (fn) => after.push(fn),
      subscribe: () => {
        conn.sessionsSubscribed = true
      }
    }
    const reply = dispatchRequest(ctx, { method, params: frame.params, scopes: conn.scopes, buckets: hub.buckets })
    // A handled fault loses the answer: the request took effect, the socket closes unanswered.
    if (fault?.closeWith !== undefined) return ws.close(fault.closeWith)
    const delay = hub.latencyMs + (method === "config.patch" ? hub.configPatchDelayMs : 0)
    respond(id, reply, delay, after)
  }

  ws.on("message", (data) => {
    let frame: unknown
    try {
      frame = JSON.parse(String(data))
    } catch {
      return ws.close(1008, "invalid request frame")
    }
    if (handshake === "waiting") return onConnect(frame)
    // The real gateway queues a few frames sent before hello-ok; clients here never do.
    if (handshake === "done" && isPlainObject(frame)) onRequest(frame)
  })
}
