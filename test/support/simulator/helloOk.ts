import { randomBytes } from "node:crypto"
import { isPlainObject } from "./checkParams.ts"
import type { SimulatorContext } from "./SimulatorContext.ts"
import { CONFIG_PATH, STATE_DIR, visibleAgents } from "./SimulatorState.ts"

/** Events the real gateway advertised that matter to Switchyard (a subset of its ~65). */
export const ADVERTISED_EVENTS = [
  "connect.challenge", "agent", "chat", "chat.metadata.changed", "session.message", "session.tool",
  "sessions.changed", "presence", "tick", "shutdown", "health", "heartbeat", "cron", "device.pair.requested",
  "device.pair.resolved", "exec.approval.requested", "exec.approval.resolved", "update.available"
]
const CAPABILITIES = ["chat-send-routing-contract", "model-catalog-snapshot", "session-settings-contract"]
/** `hello-ok.policy.maxPayload` (observed 25 MiB), also enforced on frames. */
export const MAX_PAYLOAD = 26214400

/** Heartbeat as `health` reports it, from the agent's config entry (docs/gateway-protocol.md §0.5). */
function heartbeatOf(ctx: SimulatorContext, agentId: string): Record<string, unknown> {
  const agents = isPlainObject(ctx.state.config.agents) ? ctx.state.config.agents : {}
  const entries = isPlainObject(agents.entries) ? agents.entries : {}
  const entry = entries[agentId]
  const heartbeat = isPlainObject(entry) && isPlainObject(entry.heartbeat) ? entry.heartbeat : {}
  const every = typeof heartbeat.every === "string" ? heartbeat.every : "30m"
  const target = typeof heartbeat.target === "string" ? heartbeat.target : "owner"
  const everyMs = durationMs(every)
  // "0m" disables the recurring cadence; health then says so (recorded on 2026.9.6, docs/gateway-protocol.md §9).
  if (everyMs === 0) return { enabled: false, every: "disabled", everyMs: null, target, ackMaxChars: 300 }
  return { enabled: true, every, everyMs, target, ackMaxChars: 300 }
}

function durationMs(every: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(every.trim())
  if (match?.[1] === undefined) return null
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? "m").toLowerCase() as "ms"]
  return Math.round(Number(match[1]) * unit)
}

/** The `health` RPC result and `health` event payload (docs/gateway-protocol.md §5 health, §6). */
export function healthPayload(ctx: SimulatorContext): Record<string, unknown> {
  const now = ctx.now()
  const sessionsOf = (agentId: string) => {
    const own = [...ctx.state.sessions.values()].filter((s) => s.agentId === agentId)
    return {
      path: `${STATE_DIR}/agents/${agentId}/agent/openclaw-agent.sqlite`,
      count: own.length,
      recent: own.slice(0, 5).map((s) => ({ key: s.key, updatedAt: s.updatedAt, age: now - s.updatedAt }))
    }
  }
  return {
    ok: true,
    ts: now,
    durationMs: 1,
    plugins: { loaded: [], errors: [], unavailable: [] },
    configReload: { hotReloadStatus: "active" },
    channels: {},
    channelOrder: [],
    channelLabels: {},
    heartbeatSeconds: 1800,
    defaultAgentId: "main",
    agents: visibleAgents(ctx, now).map((agent) => ({
      agentId: agent.id,
      ...(agent.name === undefined ? {} : { name: agent.name }),
      isDefault: agent.id === "main",
      heartbeat: heartbeatOf(ctx, agent.id),
      sessions: sessionsOf(agent.id)
    })),
    sessions: sessionsOf("main"),
    modelRuntime: { degraded: false, pendingAgents: [] },
    eventLoop: { degraded: false, degradedSinceMs: null, reasons: [] }
  }
}

/** Inputs of one successful handshake. */
export interface HelloInput {
  version: string
  connId: string
  scopes: ReadonlyArray<string>
  role: string
  tickIntervalMs: number
  methods: ReadonlyArray<string>
}

/** The `hello-ok` payload (docs/gateway-protocol.md §2.4), shaped like the recorded one. */
export function helloOk(ctx: SimulatorContext, input: HelloInput): Record<string, unknown> {
  const now = ctx.now()
  const ownership = visibleAgents(ctx, now).length > 1 ? "explicit" : "sole"
  return {
    type: "hello-ok",
    protocol: 4,
    server: {
      version: input.version,
      buildId: `${input.version}-simulator`,
      bootId: ctx.internals.bootId,
      controlUiBuildSource: "bundled",
      connId: input.connId
    },
    features: { methods: [...input.methods], events: ADVERTISED_EVENTS, capabilities: CAPABILITIES },
    snapshot: {
      presence: [],
      health: healthPayload(ctx),
      stateVersion: { presence: 1, health: 1 },
      uptimeMs: now - ctx.internals.startedAt,
      authMode: "token",
      configPath: CONFIG_PATH,
      stateDir: STATE_DIR,
      sessionDefaults: {
        defaultAgentId: "main",
        modelConfigured: false,
        ownership,
        selectionRequired: false,
        mainKey: "main",
        mainSessionKey: "agent:main:main",
        scope: "per-sender"
      }
    },
    auth: { method: "token", role: input.role, scopes: [...input.scopes], recoveryScope: randomBytes(32).toString("base64url") },
    policy: {
      maxPayload: MAX_PAYLOAD,
      maxBufferedBytes: 52428800,
      tickIntervalMs: input.tickIntervalMs,
      attachments: { maxBytes: 19464192, maxImageBytes: 6291456 },
      allowedSessionVisibilities: ["shared", "read-only", "suggest", "draft"],
      hasMultipleSessionSharingIdentities: false
    }
  }
}
