import { createHash, randomUUID } from "node:crypto"

/** Where the simulated gateway pretends its state lives (the recordings rewrite paths to `/srv/gw`). */
export const STATE_DIR = "/srv/gw/.openclaw"
export const CONFIG_PATH = `${STATE_DIR}/openclaw.json`

/** An agent as the gateway knows it. `readyAt` (epoch ms) models the post-create window (docs/gateway-protocol.md §0.6). */
export interface SimAgent {
  id: string
  name?: string
  workspace: string
  agentDir: string
  model?: string
  createdAt: number
  /** Before this instant the agent is invisible to agents.list, agents.files.* and agents.update. */
  readyAt: number
}

/** A session entry (docs/gateway-protocol.md §5 sessions.*). `fields` holds whatever sessions.patch set besides `label`. */
export interface SimSession {
  key: string
  agentId: string
  sessionId: string
  lifecycleRevision: string
  createdAt: number
  updatedAt: number
  label?: string
  fields: Record<string, unknown>
}

/**
 * One chat.history row. A user row from chat.send carries `idempotencyKey: "<key>:user"`, the
 * form the real gateway stores and returns (recording `chat.history (after send)`).
 */
export interface SimChatMessage {
  role: string
  content: string
  idempotencyKey?: string
  /** Epoch ms; filled in when absent. */
  timestamp?: number
}

/** The simulator's observable state. Tests may read it, and seed it before clients connect. */
export interface SimulatorState {
  agents: Map<string, SimAgent>
  /** agentId → file name → content. */
  files: Map<string, Map<string, string>>
  /** The config file as written (token not redacted). */
  config: Record<string, unknown>
  sessions: Map<string, SimSession>
  /** sessionKey → history, oldest first. */
  chat: Map<string, Array<SimChatMessage>>
}

/** Bookkeeping the real gateway keeps but no test needs to see. */
export interface SimulatorInternals {
  /** Bumped on every config write, so `config.get.hash` changes even for identical content. */
  configRevision: number
  hashSecret: string
  /** chat.send runs by idempotencyKey (runs never finish in the simulator: no model). */
  runs: Map<string, { sessionKey: string; message: string }>
  /** `${agentId}/${name}` → last write, epoch ms. */
  fileTimes: Map<string, number>
  /**
   * Deleted agents agents.list still shows until `until` (epoch ms): the real gateway's list
   * lags a delete about as long as it lags a create.
   */
  lingering: Map<string, { agent: SimAgent; until: number }>
  bootId: string
  startedAt: number
}

/** Template stand-ins for the files agents.create seeds (docs/gateway-protocol.md §5 agents.create). */
export const SEEDED_FILES: Record<string, (name: string) => string> = {
  "AGENTS.md": () => "# AGENTS.md - Your Workspace\n\nThis folder is home. Treat it that way.\n",
  "SOUL.md": () => "# SOUL.md - Who You Are\n\nBe genuinely helpful, not performatively helpful.\n",
  "USER.md": () => "# USER.md - About Your Human\n\n- **Name:**\n- **Timezone:**\n",
  "BOOTSTRAP.md": () => "# BOOTSTRAP.md - Hello, World\n\nYou just woke up. Time to figure out who you are.\n",
  "IDENTITY.md": (name) => `# IDENTITY.md - Who Am I?\n\n- **Name:** ${name}\n`
}

export function createSimulatorState(): { state: SimulatorState; internals: SimulatorInternals } {
  const now = Date.now()
  const main: SimAgent = { id: "main", workspace: `${STATE_DIR}/workspace`, agentDir: `${STATE_DIR}/agents/main/agent`, createdAt: now, readyAt: 0 }
  const state: SimulatorState = {
    agents: new Map([["main", main]]),
    files: new Map([["main", seededFiles("main")]]),
    // What test/support/openclawGateway.ts writes before starting the real gateway.
    config: { gateway: { mode: "local" } },
    sessions: new Map(),
    chat: new Map()
  }
  const internals: SimulatorInternals = {
    configRevision: 0,
    hashSecret: randomUUID(),
    runs: new Map(),
    fileTimes: new Map(),
    lingering: new Map(),
    bootId: randomUUID(),
    startedAt: now
  }
  return { state, internals }
}

export function seededFiles(name: string): Map<string, string> {
  return new Map(Object.entries(SEEDED_FILES).map(([file, template]) => [file, template(name)]))
}

type World = { state: SimulatorState; internals: SimulatorInternals }

function lingeringAgents(world: World, now: number): Array<SimAgent> {
  for (const [id, entry] of world.internals.lingering) if (entry.until <= now) world.internals.lingering.delete(id)
  return [...world.internals.lingering.values()].map((entry) => entry.agent).filter((a) => !world.state.agents.has(a.id))
}

/**
 * What the gateway's runtime config shows: agents past their ready delay plus recently deleted
 * ones still lingering, `main` first then by id (the real agents.list order).
 */
export function visibleAgents(world: World, now: number): Array<SimAgent> {
  const ready = [...world.state.agents.values()].filter((a) => a.readyAt <= now)
  return [...ready, ...lingeringAgents(world, now)].sort((a, b) => (a.id === "main" ? -1 : b.id === "main" ? 1 : a.id.localeCompare(b.id)))
}

/** One ready agent, as agents.files.*, agents.update and agents.delete resolve it (lingering ones are gone). */
export function visibleAgent(world: World, id: unknown, now: number): SimAgent | undefined {
  if (typeof id !== "string") return undefined
  const agent = world.state.agents.get(id.trim().toLowerCase())
  return agent !== undefined && agent.readyAt <= now ? agent : undefined
}

/** Lowercase sha256 hex, as agents.files.* report `hash` (docs/gateway-protocol.md §5). */
export function sha256Hex(content: string): string {
  return createHash("sha256").update(content).digest("hex")
}
