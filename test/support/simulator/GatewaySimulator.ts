import { randomBytes, randomUUID } from "node:crypto"
import type { AddressInfo } from "node:net"
import { setTimeout as sleep } from "node:timers/promises"
import WebSocket, { WebSocketServer } from "ws"
import { runFailed, runStarted, runSucceeded } from "./liveEvents.ts"
import { MAX_PAYLOAD } from "./helloOk.ts"
import { chatSendKeys } from "./chatSendKeys.ts"
import { writeConfig } from "./configMethods.ts"
import { sendEvent, serveConnection } from "./serveConnection.ts"
import type { Hub } from "./serveConnection.ts"
import type { SimulatorContext } from "./SimulatorContext.ts"
import { createSimulatorState } from "./SimulatorState.ts"
import type { SimulatorState } from "./SimulatorState.ts"

export type { SimAgent, SimChatMessage, SimSession, SimulatorState } from "./SimulatorState.ts"

export interface SimulatorOptions {
  /** Shared token clients must send in `connect.params.auth.token`; random when omitted. */
  token?: string
  /** Added before every response, ms. Default 0. */
  latencyMs?: number
  /** How long a created agent stays invisible after the ack, ms. Default 0; the real gateway 160–375 (docs/gateway-protocol.md §0.6). */
  agentReadyDelayMs?: number
  /** Extra delay before config.patch answers, ms (the real one waits for hot reload, 0.3–3.4 s). Default 0. */
  configPatchDelayMs?: number
  /** `hello-ok.policy.tickIntervalMs` and the `tick` event period, ms. Default 30000. */
  tickIntervalMs?: number
  /** `hello-ok.server.version`. Default "2026.9.6". */
  version?: string
  /**
   * Fail every chat run after this many ms, with the events and error of a gateway without model
   * credentials (docs/gateway-protocol.md §10). Default: runs never end (there is no model).
   */
  failRunsAfterMs?: number
  /**
   * How long after a hand edit of the config file (`editConfigFile`) its `config.changed` goes
   * out, ms. Default 850: the real gateway's watcher (300 ms debounce, then the reload) took
   * 0.85–0.9 s (docs/gateway-protocol.md §6).
   */
  handEditNoticeMs?: number
}

/** One queued misbehaviour for the next `times` requests of `method` ("connect" targets the handshake). */
export interface SimulatorFault {
  method: string
  /** Default 1. */
  times?: number
  /** Answer with this error instead (default when nothing else is set: retryable UNAVAILABLE). */
  error?: { code: string; message: string; retryable?: boolean; retryAfterMs?: number; details?: unknown }
  /** The refusal's `payload` (e.g. a `chat.send` run `{runId, status: "error"}`); none by default. */
  payload?: unknown
  /** Never answer. */
  hang?: boolean
  /** Close the socket with this code instead of answering. */
  closeWith?: number
  /** With `closeWith`: handle the request first (a `chat.send` takes its message), then close unanswered: a lost answer. */
  handled?: boolean
  /** Only requests whose params pass this take the fault (e.g. one agent's calls); default: every request of `method`. */
  when?: (params: unknown) => boolean
}

/** A running in-process OpenClaw gateway double (protocol 4 over `ws`, loopback only). */
export interface GatewaySimulator {
  /** `ws://127.0.0.1:<port>` */
  url: string
  token: string
  /** Total WebSocket connections accepted, handshaken or not. */
  readonly connectionsOpened: number
  /** Sockets open right now past the handshake (a client's connection; refused or pending ones aside). */
  readonly openSockets: number
  /**
   * The distinct `chat.send` idempotency keys on the sessions of gateway agent `agentId`, in
   * arrival order: one per message or wake sent, a replay with the same key counted once.
   */
  chatSendKeys(agentId: string): Array<string>
  /** Every request after a handshake, in arrival order; `at` is epoch ms. */
  calls: Array<{ method: string; params: unknown; at: number }>
  countOf(method: string): number
  /**
   * Runs one heartbeat turn for `agentId` on its main session: the `agent` frames of a run marked
   * `isHeartbeat`, ending `ok` or failing as without model credentials. A test hook: the real
   * gateway runs these on the agent's `heartbeat.every` (docs/gateway-protocol.md §10).
   */
  heartbeatRun(agentId: string, outcome?: "ok" | "error"): string
  /** Faults take precedence over normal handling, in injection order. */
  inject(fault: SimulatorFault): void
  /** Closes every socket, e.g. 1012 (restart) or 4001 (policy change). */
  closeAll(code: number, reason?: string): void
  /**
   * Sends `shutdown {reason, restartExpectedMs}`, closes every socket with 1012, then answers
   * `connect` with UNAVAILABLE `startup-sidecars` and closes 1013 for `downMs` (docs/gateway-protocol.md §1, §2
   * step 5). State is kept; `hello-ok.server.bootId` changes. Resolves when handshakes succeed again.
   */
  restart(opts?: { downMs?: number }): Promise<void>
  /**
   * An operator's edit of the config file by hand: `config.get` shows it at once, and the
   * gateway's file watcher commits it and sends `config.changed` `handEditNoticeMs` later, as the
   * real one does (docs/gateway-protocol.md §6). Editing `state.config` directly sends nothing
   * (a test's seed, or an event the gateway dropped).
   */
  editConfigFile(edit: (config: Record<string, unknown>) => void): void
  /** Live state: read it, or seed it before clients connect. */
  readonly state: SimulatorState
  /** Sends `shutdown`, closes every socket (1012) and the listener. Idempotent. */
  stop(): Promise<void>
}

/** Starts a simulator on 127.0.0.1 with an ephemeral port. */
export async function startGatewaySimulator(opts: SimulatorOptions = {}): Promise<GatewaySimulator> {
  const { state, internals } = createSimulatorState()
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: MAX_PAYLOAD, perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve)
    wss.once("error", reject)
  })
  const port = (wss.address() as AddressInfo).port
  const timers = new Set<NodeJS.Timeout>()
  let downUntil = 0
  let opened = 0
  let stopped: Promise<void> | undefined

  const closeAll = (code: number, reason = "") => {
    for (const conn of hub.connections) conn.ws.close(code, reason)
  }
  const ctx: SimulatorContext = {
    state,
    internals,
    agentReadyDelayMs: opts.agentReadyDelayMs ?? 0,
    now: () => Date.now(),
    broadcast: (event, payload, topic) => {
      for (const conn of hub.connections) if (conn.open && (topic === undefined || conn.sessionsSubscribed)) sendEvent(conn, event, payload)
    },
    subscribe: () => {},
    later: (ms, fn) => hub.later(ms, fn),
    failRunsAfterMs: opts.failRunsAfterMs,
    afterReply: (fn) => fn(),
    closeAll
  }
  const hub: Hub = {
    ctx,
    version: opts.version ?? "2026.9.6",
    token: opts.token ?? randomBytes(16).toString("hex"),
    latencyMs: opts.latencyMs ?? 0,
    configPatchDelayMs: opts.configPatchDelayMs ?? 0,
    tickIntervalMs: opts.tickIntervalMs ?? 30_000,
    connections: new Set(),
    faults: [],
    calls: [],
    buckets: new Map(),
    isStarting: () => Date.now() < downUntil,
    later: (ms, fn) => {
      if (stopped !== undefined) return
      if (ms <= 0) return fn()
      const timer = setTimeout(() => {
        timers.delete(timer)
        fn()
      }, ms)
      timers.add(timer)
    }
  }
  const ticker = setInterval(() => ctx.broadcast("tick", { ts: Date.now() }), hub.tickIntervalMs)
  ticker.unref()

  wss.on("connection", (ws, req) => {
    opened += 1
    serveConnection(hub, ws, req)
  })

  const shutdown = (reason: string, restartExpectedMs?: number) => {
    ctx.broadcast("shutdown", restartExpectedMs === undefined ? { reason } : { reason, restartExpectedMs })
    closeAll(1012, "service restart")
  }

  return {
    url: `ws://127.0.0.1:${port}`,
    token: hub.token,
    get connectionsOpened() {
      return opened
    },
    get openSockets() {
      return [...hub.connections].filter((conn) => conn.open && conn.ws.readyState === WebSocket.OPEN).length
    },
    chatSendKeys: (agentId) => chatSendKeys(hub.calls, agentId),
    calls: hub.calls,
    countOf: (method) => hub.calls.filter((call) => call.method === method).length,
    heartbeatRun: (agentId, outcome = "ok") => {
      const run = { runId: `heartbeat-${randomUUID()}`, sessionKey: `agent:${agentId}:main`, agentId, isHeartbeat: true }
      const startedAt = Date.now()
      runStarted(ctx, run)
      hub.later(20, () => (outcome === "ok" ? runSucceeded(ctx, run, startedAt) : runFailed(ctx, run, startedAt)))
      return run.runId
    },
    inject: (fault) => {
      hub.faults.push({
        method: fault.method,
        remaining: fault.times ?? 1,
        ...(fault.error === undefined ? {} : { error: fault.error }),
        ...(fault.hang === undefined ? {} : { hang: fault.hang }),
        ...(fault.closeWith === undefined ? {} : { closeWith: fault.closeWith }),
        ...(fault.handled === undefined ? {} : { handled: fault.handled }),
        ...(fault.payload === undefined ? {} : { payload: fault.payload }),
        ...(fault.when === undefined ? {} : { when: fault.when })
      })
    },
    closeAll,
    editConfigFile: (edit) => {
      const next = structuredClone(state.config)
      edit(next)
      state.config = next
      hub.later(opts.handEditNoticeMs ?? 850, () => writeConfig(ctx, state.config))
    },
    restart: async ({ downMs = 0 } = {}) => {
      shutdown("gateway restarting", downMs)
      internals.bootId = randomUUID()
      // A new process forgets its control-plane write budget (docs gateway/security/rate-limiting).
      hub.buckets.clear()
      downUntil = Date.now() + downMs
      if (downMs > 0) await sleep(downMs)
    },
    get state() {
      return state
    },
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(ticker)
        for (const timer of timers) clearTimeout(timer)
        shutdown("gateway stopping")
        await waitForClose([...hub.connections].map((conn) => conn.ws), 500)
        await new Promise<void>((resolve) => wss.close(() => resolve()))
      })())
  }
}

// Gives close handshakes a moment, then cuts whatever is left so stop() never hangs.
async function waitForClose(sockets: Array<WebSocket>, graceMs: number): Promise<void> {
  const closed = sockets.map(
    (ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once("close", () => resolve())))
  )
  await Promise.race([Promise.all(closed), sleep(graceMs)])
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate()
}
