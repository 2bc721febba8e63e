import { invalid, ok } from "./SimulatorContext.ts"
import type { MethodHandler, Reply, SimulatorContext } from "./SimulatorContext.ts"
import { sha256Hex, visibleAgent } from "./SimulatorState.ts"
import type { SimAgent } from "./SimulatorState.ts"

/** Names agents.files.get/set accept (docs/gateway-protocol.md §0.8). */
export const SUPPORTED_FILE_NAMES = ["AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md", "BOOTSTRAP.md", "MEMORY.md"]
/** What agents.files.list shows: the supported names minus IDENTITY.md. */
const LISTED_FILE_NAMES = SUPPORTED_FILE_NAMES.filter((name) => name !== "IDENTITY.md")

const expectedAbsent = (name: string) => name === "MEMORY.md"
const byteLength = (content: string) => Buffer.byteLength(content, "utf8")

interface Resolved {
  agent: SimAgent
  files: Map<string, string>
  name: string
}

// The real handler checks the agent before the file name, so an unknown agent wins.
function resolve(params: Record<string, unknown>, ctx: SimulatorContext): Resolved | Reply {
  const agent = visibleAgent(ctx, params.agentId, ctx.now())
  if (agent === undefined) return invalid(`agent "${String(params.agentId)}" not found`)
  const name = String(params.name).trim()
  if (!SUPPORTED_FILE_NAMES.includes(name)) return invalid(`unsupported file "${name}"`)
  let files = ctx.state.files.get(agent.id)
  if (files === undefined) ctx.state.files.set(agent.id, (files = new Map()))
  return { agent, files, name }
}

const isReply = (value: Resolved | Reply): value is Reply => "ok" in value

function updatedAt(ctx: SimulatorContext, agent: SimAgent, name: string): number {
  return ctx.internals.fileTimes.get(`${agent.id}/${name}`) ?? agent.createdAt
}

/** agents.files.list (docs/gateway-protocol.md §5): no hash or content; absent MEMORY.md is `expectedAbsent`. */
const list: MethodHandler = (params, ctx) => {
  const agent = visibleAgent(ctx, params.agentId, ctx.now())
  if (agent === undefined) return invalid(`agent "${String(params.agentId)}" not found`)
  const files = ctx.state.files.get(agent.id) ?? new Map<string, string>()
  return ok({
    agentId: agent.id,
    workspace: agent.workspace,
    files: LISTED_FILE_NAMES.map((name) => {
      const path = `${agent.workspace}/${name}`
      const content = files.get(name)
      return content === undefined
        ? { name, path, missing: true, expectedAbsent: expectedAbsent(name) }
        : { name, path, missing: false, size: byteLength(content), updatedAtMs: updatedAt(ctx, agent, name) }
    })
  })
}

/** agents.files.get (docs/gateway-protocol.md §5): a missing file is `file.missing: true`, not an error. */
const get: MethodHandler = (params, ctx) => {
  const resolved = resolve(params, ctx)
  if (isReply(resolved)) return resolved
  const { agent, files, name } = resolved
  const path = `${agent.workspace}/${name}`
  const content = files.get(name)
  const file =
    content === undefined
      ? { name, path, missing: true, expectedAbsent: expectedAbsent(name) }
      : { name, path, missing: false, size: byteLength(content), updatedAtMs: updatedAt(ctx, agent, name), hash: sha256Hex(content), content }
  return ok({ agentId: agent.id, workspace: agent.workspace, file })
}

/**
 * agents.files.set (docs/gateway-protocol.md §5): a stale `expectedHash` (also against a missing file) fails with
 * `details.type: "agent_file_conflict"` and the current hash when there is one.
 */
const set: MethodHandler = (params, ctx) => {
  const resolved = resolve(params, ctx)
  if (isReply(resolved)) return resolved
  const { agent, files, name } = resolved
  const current = files.get(name)
  const currentHash = current === undefined ? undefined : sha256Hex(current)
  if (typeof params.expectedHash === "string" && params.expectedHash.toLowerCase() !== currentHash) {
    return invalid(`agent file "${name}" changed since it was read`, {
      details: { type: "agent_file_conflict", name, ...(currentHash === undefined ? {} : { currentHash }) }
    })
  }
  const content = String(params.content)
  const now = ctx.now()
  files.set(name, content)
  ctx.internals.fileTimes.set(`${agent.id}/${name}`, now)
  return ok({
    ok: true,
    agentId: agent.id,
    workspace: agent.workspace,
    file: { name, path: `${agent.workspace}/${name}`, missing: false, size: byteLength(content), updatedAtMs: now, hash: sha256Hex(content), content }
  })
}

export const agentFileMethods: Record<string, MethodHandler> = {
  "agents.files.list": list,
  "agents.files.get": get,
  "agents.files.set": set
}
