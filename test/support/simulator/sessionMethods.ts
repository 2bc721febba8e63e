import { randomUUID } from "node:crypto"
import { invalid, ok } from "./SimulatorContext.ts"
import type { MethodHandler, SimulatorContext } from "./SimulatorContext.ts"
import { STATE_DIR } from "./SimulatorState.ts"
import { sessionChanged } from "./liveEvents.ts"
import type { SimSession } from "./SimulatorState.ts"

const THINKING = ["low", "medium", "high", "xhigh", "max", "ultra"]
const RUNTIME = { id: "codex", cloudPlacementSupported: false, devicePlacementSupported: false, source: "implicit" }
/** `defaults` block of sessions.list / chat.history (recordings). */
export const SESSION_DEFAULTS = { modelProvider: "openai", model: "gpt-6-astra", contextTokens: 200000, agentRuntime: RUNTIME, modelSelectionTarget: "session" }
const RESOLVED = { modelProvider: "openai", model: "gpt-6-astra", agentRuntime: { id: "codex", source: "implicit" }, runtimeSelectionLocked: false }

/** `agent:<agentId>:<rest>` keys keep their agent; bare keys belong to `main` (docs/gateway-protocol.md §5 sessions.patch). */
export function canonicalSessionKey(key: string): { key: string; agentId: string } {
  const trimmed = key.trim()
  const match = /^agent:([^:]+):(.+)$/.exec(trimmed)
  if (match?.[1] !== undefined) return { key: trimmed, agentId: match[1].toLowerCase() }
  return { key: `agent:main:${trimmed}`, agentId: "main" }
}

const isMainKey = (key: string) => /^agent:[^:]+:main$/.test(key)
const storePath = (agentId: string) => `${STATE_DIR}/agents/${agentId}/agent/openclaw-agent.sqlite`

/** Creates the entry when missing, as sessions.patch / sessions.reset / chat.send do (unknown agents included). */
export function ensureSession(ctx: SimulatorContext, rawKey: string): SimSession {
  const { key, agentId } = canonicalSessionKey(rawKey)
  const existing = ctx.state.sessions.get(key)
  if (existing !== undefined) return existing
  const now = ctx.now()
  const session: SimSession = { key, agentId, sessionId: randomUUID(), lifecycleRevision: randomUUID(), createdAt: now, updatedAt: now, fields: {} }
  ctx.state.sessions.set(key, session)
  return session
}

function entry(session: SimSession): Record<string, unknown> {
  return {
    sessionId: session.sessionId,
    lifecycleRevision: session.lifecycleRevision,
    updatedAt: session.updatedAt,
    createdVia: "operator",
    createdAt: session.createdAt,
    ...(session.label === undefined ? {} : { label: session.label }),
    ...session.fields
  }
}

/** A sessions.list row (also chat.history `sessionInfo`). */
export function sessionRow(ctx: SimulatorContext, session: SimSession): Record<string, unknown> {
  const activeRunIds = [...ctx.internals.runs].filter(([, run]) => run.sessionKey === session.key).map(([id]) => id)
  const main = isMainKey(session.key)
  return {
    key: session.key,
    visibility: "shared",
    createdVia: "operator",
    createdAt: session.createdAt,
    kind: "direct",
    ...(session.label === undefined ? {} : { label: session.label, displayName: session.label }),
    classification: main ? "main" : "custom",
    agentId: session.agentId,
    isMain: main,
    isBackground: false,
    updatedAt: session.updatedAt,
    archived: session.fields.archived === true,
    pinned: session.fields.pinned === true,
    unread: session.fields.unread === true,
    sessionId: session.sessionId,
    thinkingLevels: THINKING.map((id) => ({ id, label: id })),
    thinkingOptions: THINKING,
    thinkingDefault: "medium",
    modelProvider: "openai",
    model: "gpt-6-astra",
    agentRuntime: RUNTIME,
    hasActiveRun: activeRunIds.length > 0,
    activeRunIds,
    sharingRole: "admin"
  }
}

/** sessions.list (docs/gateway-protocol.md §5): newest first, `limit` default 100. */
const list: MethodHandler = (params, ctx) => {
  const search = typeof params.search === "string" ? params.search.toLowerCase() : undefined
  const all = [...ctx.state.sessions.values()]
    .filter((s) => params.agentId === undefined || s.agentId === params.agentId)
    .filter((s) => params.label === undefined || s.label === params.label)
    .filter((s) => search === undefined || s.key.includes(search) || (s.label ?? "").toLowerCase().includes(search))
    .sort((a, b) => b.updatedAt - a.updatedAt)
  const limit = typeof params.limit === "number" ? params.limit : 100
  const offset = typeof params.offset === "number" ? params.offset : 0
  const page = all.slice(offset, offset + limit)
  const hasMore = offset + page.length < all.length
  return ok({
    ts: ctx.now(),
    path: "(multiple)",
    count: page.length,
    totalCount: all.length,
    limitApplied: limit,
    nextOffset: hasMore ? offset + page.length : null,
    hasMore,
    owners: [],
    defaults: { ...SESSION_DEFAULTS, thinkingLevels: THINKING.map((id) => ({ id, label: id })), thinkingOptions: THINKING, thinkingDefault: "medium" },
    sessions: page.map((s) => sessionRow(ctx, s))
  })
}

/** sessions.patch (docs/gateway-protocol.md §5): "ensure session"; does not check that the agent exists. */
const patch: MethodHandler = (params, ctx) => {
  const session = ensureSession(ctx, String(params.key))
  for (const [field, value] of Object.entries(params)) {
    if (field === "key" || field === "agentId" || field.startsWith("expected")) continue
    if (field === "label") {
      if (typeof value === "string") session.label = value
      else delete session.label
    } else if (value === null) delete session.fields[field]
    else session.fields[field] = value
  }
  session.updatedAt = ctx.now()
  ctx.afterReply(() => sessionChanged(ctx, session, "patch"))
  return ok({ ok: true, path: storePath(session.agentId), key: session.key, entry: entry(session), resolved: RESOLVED })
}

/** sessions.subscribe (docs/gateway-protocol.md §10): this connection gets `sessions.changed` from now on. */
const subscribe: MethodHandler = (_params, ctx) => {
  ctx.subscribe("sessions")
  return ok({ subscribed: true })
}

/**
 * sessions.reset (docs/gateway-protocol.md §5): unknown keys are created. Like the real gateway it keeps
 * `sessionId`, changes `lifecycleRevision` and leaves the history holding one `system` "Reset" row.
 */
const reset: MethodHandler = (params, ctx) => {
  const session = ensureSession(ctx, String(params.key))
  if (typeof params.expectedSessionId === "string" && params.expectedSessionId !== session.sessionId) {
    return invalid(`Session ${session.key} changed before reset. Retry.`, { details: { reason: "session-changed" } })
  }
  const now = ctx.now()
  session.lifecycleRevision = randomUUID()
  session.updatedAt = now
  ctx.state.chat.set(session.key, [{ role: "system", content: "Reset", timestamp: now }])
  return ok({
    ok: true,
    key: session.key,
    entry: { ...entry(session), sessionStartedAt: now, systemSent: false, abortedLastRun: false, chatType: "direct" },
    resolved: { modelProvider: "openai", model: "gpt-6-astra" }
  })
}

/** sessions.delete (docs/gateway-protocol.md §5): main sessions refused; a second delete answers `deleted: false`. */
const remove: MethodHandler = (params, ctx) => {
  const { key } = canonicalSessionKey(String(params.key))
  if (isMainKey(key) || key === "agent:main:global") return invalid(`Cannot delete the main session (${key}).`)
  const deleted = ctx.state.sessions.delete(key)
  ctx.state.chat.delete(key)
  return ok({ ok: true, key, deleted, archived: [] })
}

export const sessionMethods: Record<string, MethodHandler> = {
  "sessions.list": list,
  "sessions.patch": patch,
  "sessions.reset": reset,
  "sessions.delete": remove,
  "sessions.subscribe": subscribe
}
