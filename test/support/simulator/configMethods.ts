import { createHmac } from "node:crypto"
import { isPlainObject } from "./checkParams.ts"
import { destructiveArrayPaths, diffLeafPaths, getPath, mergePatch } from "./mergePatch.ts"
import { parseJson5 } from "./parseJson5.ts"
import { invalid, ok } from "./SimulatorContext.ts"
import type { MethodHandler, SimulatorContext } from "./SimulatorContext.ts"
import { CONFIG_PATH } from "./SimulatorState.ts"
import { summarizeIssues, validateConfig } from "./validateConfig.ts"

const REDACTED = "__OPENCLAW_REDACTED__"
const SECRET_PATHS = ["gateway.auth.token", "gateway.auth.password"]

/**
 * The optimistic-concurrency token of config.get / config.patch: `hmac-sha256:v1:<base64url>`
 * (the recordings show base64url, not hex). Mixes in the write revision, so every write changes
 * it, and hashes the live `state.config`, so a test editing the config directly changes it too.
 */
export function configHash(ctx: SimulatorContext, kind = "raw"): string {
  const mac = createHmac("sha256", ctx.internals.hashSecret)
  mac.update(`${kind}:${ctx.internals.configRevision}:${JSON.stringify(ctx.state.config)}`)
  return `hmac-sha256:v1:${mac.digest("base64url")}`
}

/** Replaces the config file, bumps the revision and tells every client (`config.changed`, docs/gateway-protocol.md §6). */
export function writeConfig(ctx: SimulatorContext, next: Record<string, unknown>): string {
  ctx.state.config = next
  ctx.internals.configRevision += 1
  const hash = configHash(ctx)
  ctx.broadcast("config.changed", { path: CONFIG_PATH, hash, ts: ctx.now() })
  return hash
}

function redact(config: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(config)
  for (const path of SECRET_PATHS) {
    const segments = path.split(".")
    const last = segments.pop() ?? ""
    const parent = getPath(copy, segments.join("."))
    if (isPlainObject(parent) && typeof parent[last] === "string") parent[last] = REDACTED
  }
  return copy
}

// A client echoing a redacted config back must not overwrite the secret with the placeholder.
function restoreSecrets(merged: Record<string, unknown>, original: Record<string, unknown>): void {
  for (const path of SECRET_PATHS) {
    const segments = path.split(".")
    const last = segments.pop() ?? ""
    const parent = getPath(merged, segments.join("."))
    if (isPlainObject(parent) && parent[last] === REDACTED) parent[last] = getPath(original, path)
  }
}

/** config.get (docs/gateway-protocol.md §5): the config under every name the real payload uses, plus `hash`. */
const configGet: MethodHandler = (_params, ctx) => {
  const shown = redact(ctx.state.config)
  const applied = configHash(ctx, "applied")
  return ok({
    path: CONFIG_PATH,
    includedPaths: [],
    includeProvenance: [],
    agentRosterIncludeOwned: false,
    bindingsIncludeOwned: false,
    exists: true,
    raw: `${JSON.stringify(shown, null, 2)}\n`,
    parsed: shown,
    sourceConfig: shown,
    resolved: shown,
    valid: true,
    runtimeConfig: shown,
    config: shown,
    hash: configHash(ctx),
    issues: [],
    warnings: [],
    legacyIssues: [],
    configRevisionHash: applied,
    appliedConfigHash: applied
  })
}

/**
 * config.patch, in the real handler's order (`src/gateway/server-methods/config.ts`): stale
 * `baseHash` → parse → array-shrink guard → hashless guard (every changed leaf path needs a
 * `baseHash`, not only existing ones) → no-op → schema → write. `raw` is JSON5.
 * A write touching `gateway.*` closes every socket with 4001 after the reply (docs/gateway-protocol.md §0.7).
 */
const configPatch: MethodHandler = (params, ctx) => {
  const baseHash = typeof params.baseHash === "string" && params.baseHash.trim() !== "" ? params.baseHash.trim() : undefined
  if (baseHash !== undefined && baseHash !== configHash(ctx)) {
    return invalid("config changed since last load; re-run config.get and retry")
  }
  let patch: unknown
  try {
    patch = parseJson5(String(params.raw))
  } catch (err) {
    return invalid(String(err))
  }
  if (!isPlainObject(patch)) return invalid("config.patch raw must be an object")
  const current = ctx.state.config
  const replacePaths = Array.isArray(params.replacePaths) ? params.replacePaths.map(String) : []
  const shrunk = destructiveArrayPaths(current, patch, replacePaths)
  if (shrunk.length > 0) {
    return invalid(
      `config.patch would remove entries from array path(s): ${shrunk.join(", ")}. Pass replacePaths with the exact path(s) when this is intentional, or use config.apply for full-config replacement.`
    )
  }
  const merged = mergePatch(current, patch) as Record<string, unknown>
  restoreSecrets(merged, current)
  const changed = diffLeafPaths(current, merged)
  const guarded = changed.filter((path) => path !== "ui.prefs" && !path.startsWith("ui.prefs."))
  if (baseHash === undefined && guarded.length > 0) {
    return invalid(`config base hash required for ${guarded.join(", ")}; re-run config.get and retry with baseHash`)
  }
  if (changed.length === 0) return ok({ ok: true, noop: true, changedPaths: [], path: CONFIG_PATH, config: redact(current) })
  const issues = validateConfig(merged)
  if (issues.length > 0) return invalid(summarizeIssues(issues), { details: { issues } })
  const hash = writeConfig(ctx, merged)
  if (changed.some((path) => path === "gateway" || path.startsWith("gateway."))) {
    ctx.afterReply(() => ctx.closeAll(4001, "gateway policy changed"))
  }
  const note = typeof params.note === "string" ? params.note : null
  return ok({
    ok: true,
    path: CONFIG_PATH,
    hash,
    config: redact(merged),
    changedPaths: changed,
    sentinel: {
      persisted: true,
      payload: { kind: "config-patch", status: "ok", ts: ctx.now(), message: note, stats: { mode: "config.patch", root: CONFIG_PATH, requiresRestart: false } }
    }
  })
}

export const configMethods: Record<string, MethodHandler> = { "config.get": configGet, "config.patch": configPatch }
