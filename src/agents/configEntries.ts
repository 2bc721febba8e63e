import { z } from "zod"
import type { HeartbeatConfig } from "../../machines/agent/agentTypes.ts"

/** What Switchyard keeps in `agents.entries.<id>`: the display name and the heartbeat cadence. */
export interface AgentEntry {
  readonly name: string
  readonly heartbeat: HeartbeatConfig
}

/** What Switchyard reads of an `agents.entries.<id>` (docs/gateway-protocol.md §0.5). */
const ConfigEntry = z.looseObject({
  name: z.string().optional(),
  identity: z.looseObject({ name: z.string().optional() }).optional(),
  heartbeat: z.looseObject({ every: z.string().optional(), target: z.string().optional() }).optional()
})
const EntriesOf = z.looseObject({ agents: z.looseObject({ entries: z.record(z.string(), z.unknown()).optional() }).optional() })

/** The config's `agents.entries`, unparsed: a fleet's config holds one per agent, and a batch reads a few. */
export const entriesOf = (config: unknown): Readonly<Record<string, unknown>> => {
  const parsed = EntriesOf.safeParse(config)
  return (parsed.success ? parsed.data.agents?.entries : undefined) ?? {}
}

/** One agent's entry, parsed; undefined when the file has none (its agent was deleted) or it is not an object. */
export const entryOf = (entries: Readonly<Record<string, unknown>>, agentId: string): z.infer<typeof ConfigEntry> | undefined => {
  if (!Object.hasOwn(entries, agentId)) return undefined
  const entry = ConfigEntry.safeParse(entries[agentId])
  return entry.success ? entry.data : undefined
}

/** Whether the file's entry already carries `wanted` (name, identity name, heartbeat); false when it has none. */
export const sameEntry = (current: z.infer<typeof ConfigEntry> | undefined, wanted: AgentEntry) =>
  current !== undefined &&
  current.name === wanted.name &&
  current.identity?.name === wanted.name &&
  current.heartbeat?.every === wanted.heartbeat.every &&
  current.heartbeat?.target === wanted.heartbeat.target

