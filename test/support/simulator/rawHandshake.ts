import { randomUUID } from "node:crypto"
import WebSocket from "ws"

/** What one hand-made `connect` got back: the challenge, the `res` frame and how the socket closed. */
export interface HandshakeOutcome {
  challenge: unknown
  response: { ok: boolean; payload?: unknown; error?: { code: string; message: string; details?: unknown } }
  /** Set when the gateway closed the socket within `closeWaitMs` of answering. */
  close?: { code: number; reason: string }
  /** The answer to `opts.then`, sent right after a successful handshake. */
  followUp?: HandshakeOutcome["response"]
}

export interface HandshakeOptions {
  /** How long to wait for the gateway to close the socket after its answer, ms. Default 3000. */
  closeWaitMs?: number
  /** One request to send after `hello-ok`. */
  then?: { method: string; params?: unknown }
}

/** `connect` params of a well-behaved local backend (docs/gateway-protocol.md §0.3); override any field. */
export function backendConnectParams(token: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "gateway-client", version: "0.1.0", platform: process.platform, mode: "backend", instanceId: randomUUID() },
    role: "operator",
    scopes: ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"],
    auth: { token },
    ...overrides
  }
}

/**
 * Runs one handshake with arbitrary `connect` params, for cases `connectRaw` cannot express
 * (close codes, refused handshakes). Closes the socket itself when the gateway does not.
 */
export function rawHandshake(url: string, params: unknown, opts: HandshakeOptions = {}): Promise<HandshakeOutcome> {
  const closeWaitMs = opts.closeWaitMs ?? 3_000
  const ws = new WebSocket(url, { perMessageDeflate: false })
  let challenge: unknown
  let response: HandshakeOutcome["response"] | undefined
  let followUp: HandshakeOutcome["response"] | undefined
  let done = false
  return new Promise<HandshakeOutcome>((resolve, reject) => {
    const timer = setTimeout(() => finish(), 15_000)
    const finish = (close?: HandshakeOutcome["close"]) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (ws.readyState === WebSocket.OPEN) ws.close(1000)
      if (response === undefined) return reject(new Error(`no connect response${close ? ` (closed ${close.code} ${close.reason})` : ""}`))
      resolve({ challenge, response, ...(close === undefined ? {} : { close }), ...(followUp === undefined ? {} : { followUp }) })
    }
    ws.on("error", (err) => {
      clearTimeout(timer)
      reject(err)
    })
    ws.on("close", (code, reason) => finish({ code, reason: String(reason) }))
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { type: string; id?: string; event?: string; payload?: unknown; ok?: boolean; error?: never }
      if (frame.type === "event" && frame.event === "connect.challenge") {
        challenge = frame.payload
        ws.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params }))
      } else if (frame.type === "res") {
        const res = { ok: frame.ok === true, ...(frame.payload === undefined ? {} : { payload: frame.payload }), ...(frame.error === undefined ? {} : { error: frame.error }) }
        if (frame.id === "c2") {
          followUp = res
          finish()
        } else if (response === undefined) {
          response = res
          if (res.ok && opts.then !== undefined) ws.send(JSON.stringify({ type: "req", id: "c2", ...opts.then }))
          else setTimeout(() => finish(), closeWaitMs)
        }
      }
    })
  })
}
