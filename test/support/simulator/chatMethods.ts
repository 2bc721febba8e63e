import { randomUUID } from "node:crypto"
import { invalid, ok } from "./SimulatorContext.ts"
import type { MethodHandler } from "./SimulatorContext.ts"
import { visibleAgent } from "./SimulatorState.ts"
import { runFailed, runStarted, sessionChanged } from "./liveEvents.ts"
import { canonicalSessionKey, ensureSession, SESSION_DEFAULTS, sessionRow } from "./sessionMethods.ts"

/**
 * chat.send (docs/gateway-protocol.md §5): `runId` is the `idempotencyKey`; the user message is appended once.
 * Runs never finish here (there is no model), so a replay with the same key and message answers
 * `in_flight`, and a replay with a different message gets the real conflict error. (The real
 * gateway, without model credentials, fails the run within seconds; a later replay then answers
 * `ok: false` with the run's error.) A session of an unknown agent is refused.
 */
const send: MethodHandler = (params, ctx) => {
  const runId = String(params.idempotencyKey)
  const message = String(params.message)
  const { agentId } = canonicalSessionKey(String(params.sessionKey))
  if (visibleAgent(ctx, agentId, ctx.now()) === undefined) return invalid(`Agent "${agentId}" no longer exists in configuration`)
  const session = ensureSession(ctx, String(params.sessionKey))
  const known = ctx.internals.runs.get(runId)
  if (known !== undefined) {
    if (known.message !== message || known.sessionKey !== session.key) {
      return invalid(
        "This message ID was already used for different input. Check the conversation history and use a new message ID to send again.",
        { details: { reason: "chat-request-conflict" } }
      )
    }
    return ok({ runId, status: "in_flight" })
  }
  const now = ctx.now()
  ctx.internals.runs.set(runId, { sessionKey: session.key, message })
  let history = ctx.state.chat.get(session.key)
  if (history === undefined) ctx.state.chat.set(session.key, (history = []))
  history.push({ role: "user", content: message, idempotencyKey: `${runId}:user`, timestamp: now })
  session.updatedAt = now
  // The run's events follow the ack, as on the real gateway (docs/gateway-protocol.md §10).
  const run = { runId, sessionKey: session.key, agentId: session.agentId, isHeartbeat: false }
  ctx.afterReply(() => {
    sessionChanged(ctx, session, "send")
    runStarted(ctx, run)
    const failAfter = ctx.failRunsAfterMs
    if (failAfter !== undefined) ctx.later(failAfter, () => runFailed(ctx, run, now))
  })
  return ok({ runId, status: "started" })
}

/**
 * chat.history (docs/gateway-protocol.md §5): the last `limit` rows; an unknown key is an empty list, not an error.
 * `system` rows (the reset marker) carry their text as `[{type: "text", text}]`, as the real ones do.
 */
const history: MethodHandler = (params, ctx) => {
  const { key } = canonicalSessionKey(String(params.sessionKey))
  const rows = ctx.state.chat.get(key) ?? []
  const limit = typeof params.limit === "number" ? params.limit : 200
  const start = Math.max(0, rows.length - limit)
  const session = ctx.state.sessions.get(key)
  const messages = rows.slice(start).map((row, i) => {
    const timestamp = row.timestamp ?? ctx.now()
    const keyed = row.idempotencyKey === undefined ? {} : { idempotencyKey: row.idempotencyKey }
    const content = row.role === "system" ? [{ type: "text", text: row.content }] : row.content
    return { role: row.role, content, timestamp, ...keyed, __openclaw: { id: randomUUID(), ...keyed, seq: start + i + 1 } }
  })
  return ok({
    sessionKey: key,
    ...(session === undefined ? {} : { sessionId: session.sessionId, sessionInfo: sessionRow(ctx, session) }),
    messages,
    pendingInputs: { items: [], total: 0 },
    hasMore: start > 0,
    totalMessages: rows.length,
    defaults: SESSION_DEFAULTS
  })
}

export const chatMethods: Record<string, MethodHandler> = { "chat.send": send, "chat.history": history }
