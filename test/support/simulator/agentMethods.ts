import { isPlainObject } from "./checkParams.ts"
import { writeConfig } from "./configMethods.ts"
import { invalid, ok } from "./SimulatorContext.ts"
import type { MethodHandler, SimulatorContext } from "./SimulatorContext.ts"
import { seededFiles, STATE_DIR, visibleAgent, visibleAgents } from "./SimulatorState.ts"
import type { SimAgent } from "./SimulatorState.ts"

const THINKING = ["low", "medium", "high", "xhigh", "max", "ultra"]
const RUNTIME = { id: "codex", cloudPlacementSupported: false, devicePlacementSupported: false, source: "implicit" }
const DEFAULT_MODEL = "openai/gpt-6-astra"

/**
 * The agent id the gateway derives from a name (real `normalizeAgentIdStrict`): a valid id is
 * lowercased as is; otherwise runs of characters outside `[a-z0-9_-]` become `-`, edge dashes are
 * dropped and the result is cut to 64. `undefined` when nothing is left.
 */
export function agentIdFromName(name: string): string | undefined {
  const trimmed = name.trim()
  if (/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(trimmed)) return trimmed.toLowerCase()
  const id = trimmed.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+/, "").replace(/-+$/, "").slice(0, 64)
  return id === "" ? undefined : id
}

const notFound = (id: unknown) => invalid(`agent "${String(id)}" not found`)

function agentRow(agent: SimAgent): Record<string, unknown> {
  const created = agent.id === "main" ? {} : { createdVia: "operator", creatorAgentId: null, createdAt: agent.createdAt }
  return {
    id: agent.id,
    ...(agent.name === undefined ? {} : { name: agent.name, identity: { name: agent.name } }),
    workspace: agent.workspace,
    workspaceGit: agent.id !== "main",
    agentRuntime: RUNTIME,
    thinkingLevels: THINKING.map((id) => ({ id, label: id })),
    thinkingOptions: THINKING,
    thinkingDefault: "medium",
    model: { primary: agent.model ?? DEFAULT_MODEL },
    defaultPermissionMode: "full",
    ...created
  }
}

// Roster writes also pin the explicit roster and `main` as system agent, as the real ones do.
function withEntries(ctx: SimulatorContext, edit: (entries: Record<string, unknown>) => void): void {
  const next = structuredClone(ctx.state.config)
  const agents = isPlainObject(next.agents) ? next.agents : {}
  const defaults = isPlainObject(agents.defaults) ? agents.defaults : { systemAgent: { agentId: "main" }, heartbeat: { agentId: "main" } }
  const entries = isPlainObject(agents.entries) ? agents.entries : {}
  edit(entries)
  next.agents = { ...agents, ownership: "explicit", defaults, entries }
  writeConfig(ctx, next)
}

/** The display name in the agent's config entry: the real gateway lists what the config says. */
const configuredName = (ctx: Parameters<MethodHandler>[1], agentId: string): string | undefined => {
  const agents = ctx.state.config["agents"]
  const entries = isPlainObject(agents) ? agents["entries"] : undefined
  const entry = isPlainObject(entries) ? entries[agentId] : undefined
  return isPlainObject(entry) && typeof entry["name"] === "string" ? entry["name"] : undefined
}

/** agents.list (docs/gateway-protocol.md §5): `main` first, then ready agents by id, named as their config entry says. */
const list: MethodHandler = (_params, ctx) => {
  const agents = visibleAgents(ctx, ctx.now()).map((agent) => {
    const name = configuredName(ctx, agent.id) ?? agent.name
    return name === undefined ? agent : { ...agent, name }
  })
  return ok({
    defaultId: "main",
    ownership: agents.length > 1 ? "explicit" : "sole",
    selectionRequired: false,
    mainKey: "main",
    scope: "per-sender",
    agents: agents.map(agentRow)
  })
}

/**
 * agents.create (docs/gateway-protocol.md §5): acks at once, writes `agents.entries.<id>` (and `main`'s entry if
 * missing), seeds the workspace, and keeps the agent invisible for `agentReadyDelayMs`.
 */
const create: MethodHandler = (params, ctx) => {
  const name = String(params.name).trim()
  const id = agentIdFromName(name)
  if (id === undefined) return invalid(`Agent name "${name}" has no valid id characters. Use at least one letter a-z or digit.`)
  if (ctx.state.agents.has(id)) return invalid(`agent "${id}" already exists`)
  const now = ctx.now()
  ctx.internals.lingering.delete(id)
  const workspace = typeof params.workspace === "string" ? params.workspace.trim() : `${STATE_DIR}/workspace-${id}`
  const model = typeof params.model === "string" ? params.model.trim() : undefined
  const agent: SimAgent = {
    id,
    name,
    workspace,
    agentDir: `${STATE_DIR}/agents/${id}/agent`,
    ...(model === undefined ? {} : { model }),
    createdAt: now,
    readyAt: now + ctx.agentReadyDelayMs
  }
  ctx.state.agents.set(id, agent)
  ctx.state.files.set(id, seededFiles(name))
  withEntries(ctx, (entries) => {
    const main = ctx.state.agents.get("main")
    if (entries.main === undefined && main !== undefined) entries.main = { workspace: main.workspace }
    entries[id] = { name, workspace, agentDir: agent.agentDir, ...(model === undefined ? {} : { model }), identity: { name } }
  })
  return ok({ ok: true, agentId: id, name, workspace, ...(model === undefined ? {} : { model }) })
}

/** agents.update (docs/gateway-protocol.md §5): name, workspace and model land in the agent's config entry. */
const update: MethodHandler = (params, ctx) => {
  const agent = visibleAgent(ctx, params.agentId, ctx.now())
  if (agent === undefined) return notFound(params.agentId)
  const name = typeof params.name === "string" ? params.name.trim() : undefined
  if (name !== undefined) agent.name = name
  if (typeof params.workspace === "string") agent.workspace = params.workspace.trim()
  if (typeof params.model === "string") agent.model = params.model
  if (params.model === null) delete agent.model
  withEntries(ctx, (entries) => {
    const entry = isPlainObject(entries[agent.id]) ? entries[agent.id] as Record<string, unknown> : {}
    entries[agent.id] = {
      ...entry,
      ...(name === undefined ? {} : { name, identity: { ...(isPlainObject(entry.identity) ? entry.identity : {}), name } }),
      workspace: agent.workspace,
      ...(agent.model === undefined ? {} : { model: agent.model })
    }
    if (agent.model === undefined) delete (entries[agent.id] as Record<string, unknown>).model
  })
  return ok({ ok: true, agentId: agent.id })
}

/**
 * agents.delete (docs/gateway-protocol.md §5): refuses `main`; removes the config entry, files, sessions and chat.
 * Like the real gateway, agents.list still shows the agent for `agentReadyDelayMs` after the ack,
 * while agents.files.*, agents.update and a second delete already answer "not found".
 */
const remove: MethodHandler = (params, ctx) => {
  const id = String(params.agentId).trim().toLowerCase()
  if (id === "main") {
    return invalid(
      'Agent "main" owns the legacy shared auth store and cannot be deleted. Run openclaw doctor --fix to migrate shared auth, then retry.'
    )
  }
  const agent = visibleAgent(ctx, id, ctx.now())
  if (agent === undefined) return notFound(params.agentId)
  ctx.state.agents.delete(id)
  ctx.internals.lingering.set(id, { agent, until: ctx.now() + ctx.agentReadyDelayMs })
  ctx.state.files.delete(id)
  for (const key of [...ctx.state.sessions.keys()]) {
    if (key.startsWith(`agent:${id}:`)) ctx.state.sessions.delete(key)
  }
  for (const key of [...ctx.state.chat.keys()]) if (key.startsWith(`agent:${id}:`)) ctx.state.chat.delete(key)
  withEntries(ctx, (entries) => void delete entries[id])
  const trash = (path: string) => ({ path, method: "trash" })
  return ok({
    ok: true,
    agentId: id,
    removedBindings: 0,
    removed: [trash(`${agent.agentDir}/openclaw-agent.sqlite`), trash(agent.agentDir), trash(`${STATE_DIR}/agents/${id}/sessions`), trash(agent.workspace)],
    failed: []
  })
}

export const agentMethods: Record<string, MethodHandler> = {
  "agents.list": list,
  "agents.create": create,
  "agents.update": update,
  "agents.delete": remove
}
