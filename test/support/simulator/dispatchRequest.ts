import { agentFileMethods } from "./agentFileMethods.ts"
import { agentMethods } from "./agentMethods.ts"
import { chatMethods } from "./chatMethods.ts"
import { checkParams, isPlainObject } from "./checkParams.ts"
import { configMethods } from "./configMethods.ts"
import { healthPayload } from "./helloOk.ts"
import { methodParams } from "./methodParams.ts"
import { sessionMethods } from "./sessionMethods.ts"
import { fail, invalid, ok } from "./SimulatorContext.ts"
import type { MethodHandler, Reply, SimulatorContext } from "./SimulatorContext.ts"

const handlers: Record<string, MethodHandler> = {
  health: (_params, ctx) => ok(healthPayload(ctx)),
  ...agentMethods,
  ...agentFileMethods,
  ...configMethods,
  ...sessionMethods,
  ...chatMethods
}

/** Methods the simulator answers; everything else is `unknown method: <name>`. */
export const SIMULATED_METHODS = Object.keys(handlers)

type Scope = "operator.read" | "operator.write" | "operator.admin"

// The bundled `method-scopes` table for these methods (docs/gateway-protocol.md §4).
const SCOPES: Record<string, Scope> = {
  health: "operator.read",
  "agents.list": "operator.read",
  "agents.files.list": "operator.read",
  "agents.files.get": "operator.read",
  "config.get": "operator.read",
  "sessions.list": "operator.read",
  "sessions.subscribe": "operator.read",
  "chat.history": "operator.read",
  "chat.send": "operator.write",
  "agents.create": "operator.admin",
  "agents.update": "operator.admin",
  "agents.delete": "operator.admin",
  "agents.files.set": "operator.admin",
  "config.patch": "operator.admin",
  "sessions.reset": "operator.admin"
}

const WRITE_PATCH_FIELDS = new Set([
  "label", "autoLabel", "icon", "color", "category", "boardFace", "boardPresentation", "pinned", "archived", "unread",
  "model", "agentRuntime", "thinkingLevel", "fastMode", "permissionMode"
])

function requiredScope(method: string, params: Record<string, unknown>): Scope | undefined {
  if (method === "sessions.patch") {
    const fields = Object.keys(params).filter((k) => k !== "key" && k !== "agentId" && !k.startsWith("expected"))
    const adminOnly = fields.some((k) => !WRITE_PATCH_FIELDS.has(k)) || params.permissionMode === "full"
    return adminOnly ? "operator.admin" : "operator.write"
  }
  if (method === "sessions.delete") return params.archivedOnly === true ? "operator.write" : "operator.admin"
  return SCOPES[method]
}

// operator.admin satisfies everything; write covers read.
function allows(granted: ReadonlyArray<string>, needed: Scope): boolean {
  if (granted.includes("operator.admin") || granted.includes(needed)) return true
  return needed === "operator.read" && granted.includes("operator.write")
}

/** Control-plane write budget: 30 per fixed 60 s window per method (docs gateway/security/rate-limiting). */
const RATE_LIMITED = new Set(["config.patch", "config.apply"])
const WINDOW_MS = 60_000
const BUDGET = 30

export type RateBuckets = Map<string, { windowStart: number; count: number }>

function rateLimited(buckets: RateBuckets, method: string, now: number): Reply | undefined {
  if (!RATE_LIMITED.has(method)) return undefined
  const bucket = buckets.get(method)
  if (bucket === undefined || now - bucket.windowStart >= WINDOW_MS) {
    buckets.set(method, { windowStart: now, count: 1 })
    return undefined
  }
  if (bucket.count < BUDGET) {
    bucket.count += 1
    return undefined
  }
  const retryAfterMs = Math.max(0, bucket.windowStart + WINDOW_MS - now)
  return fail("UNAVAILABLE", `rate limit exceeded for ${method}; retry after ${Math.ceil(retryAfterMs / 1000)}s`, {
    retryable: true,
    retryAfterMs,
    details: { method, limit: `${BUDGET} per ${WINDOW_MS / 1000}s` }
  })
}

/**
 * Answers one post-handshake request the way the gateway's `handleGatewayRequest` does:
 * unknown method → scope → session target → control-plane rate limit → params schema → handler.
 * The rate-limit buckets are shared by all connections, as every loopback client without a
 * device shares the key `unknown-device|127.0.0.1` on the real gateway.
 */
export function dispatchRequest(
  ctx: SimulatorContext,
  input: { method: string; params: unknown; scopes: ReadonlyArray<string>; buckets: RateBuckets }
): Reply {
  const { method } = input
  const handler = handlers[method]
  if (handler === undefined) return invalid(`unknown method: ${method}`)
  const raw = input.params ?? {}
  const needed = requiredScope(method, isPlainObject(raw) ? raw : {})
  if (needed !== undefined && !allows(input.scopes, needed)) {
    return fail("FORBIDDEN", `missing scope: ${needed}`, { details: { code: "MISSING_SCOPE", missingScope: needed, requiredScopes: [needed] } })
  }
  // The real pre-dispatch authorization resolves chat.send's session before any schema check.
  if (method === "chat.send" && !(isPlainObject(raw) && typeof raw.sessionKey === "string")) {
    return invalid("session mutation target is unavailable", { details: { code: "SESSION_MUTATION_TARGET_REQUIRED", method } })
  }
  const limited = rateLimited(input.buckets, method, ctx.now())
  if (limited !== undefined) return limited
  const rule = methodParams[method]
  const problem = rule === undefined ? undefined : checkParams(rule, raw)
  if (problem !== undefined) return invalid(`invalid ${method} params: ${problem}`)
  return handler(isPlainObject(raw) ? raw : {}, ctx)
}
