import { Effect } from "effect"
import { z } from "zod"
import type { HeartbeatConfig } from "../../machines/agent/agentTypes.ts"
import type { GatewayTarget } from "../gateway/GatewayClient.ts"
import { recordConfigPatch } from "../gateway/gatewayMetrics.ts"
import { configConflict, retryOnFailure } from "../gateway/retryPolicies.ts"
import { gatewayCall } from "./programs/gatewayCall.ts"

/** What Switchyard keeps in `agents.entries.<id>`: the display name and the heartbeat cadence. */
export interface AgentEntry {
  readonly name: string
  readonly heartbeat: HeartbeatConfig
}

const ConfigEntry = z.looseObject({
  name: z.string().optional(),
  identity: z.looseObject({ name: z.string().optional() }).optional(),
  heartbeat: z.looseObject({ every: z.string().optional(), target: z.string().optional() }).optional()
})
/** A fleet's entries (one per agent) are only checked to be an object: a zod record would copy every one of them per batch. */
const EntriesOf = z.looseObject({
  agents: z
    .looseObject({ entries: z.custom<Readonly<Record<string, unknown>>>((value) => typeof value === "object" && value !== null && !Array.isArray(value)).optional() })
    .optional()
})

/**
 * The config's entries of `agentIds` (absent when the file has none: a deleted agent). A fleet's
 * config holds one entry per agent, so only the batch's own are parsed.
 */
const entriesOf = (config: unknown, agentIds: Iterable<string>): ReadonlyMap<string, z.infer<typeof ConfigEntry>> => {
  const parsed = EntriesOf.safeParse(config)
  const entries = (parsed.success ? parsed.data.agents?.entries : undefined) ?? {}
  const found = new Map<string, z.infer<typeof ConfigEntry>>()
  for (const agentId of agentIds) {
    const entry = Object.hasOwn(entries, agentId) ? ConfigEntry.safeParse(entries[agentId]) : undefined
    if (entry?.success === true) found.set(agentId, entry.data)
  }
  return found
}

const sameEntry = (current: z.infer<typeof ConfigEntry> | undefined, wanted: AgentEntry) =>
  current !== undefined &&
  current.name === wanted.name &&
  current.identity?.name === wanted.name &&
  current.heartbeat?.every === wanted.heartbeat.every &&
  current.heartbeat?.target === wanted.heartbeat.target

/**
 * The ids of `wanted` whose entry does not hold in `config` (a config file as `config.get`
 * answers it): `differing` (in the file, not as wanted) and `missing` (not in the file: not known
 * to hold either, an apply may be about to create it). Only the wanted entries are parsed.
 */
export const unheldEntries = (config: unknown, wanted: ReadonlyMap<string, AgentEntry>): { readonly differing: ReadonlySet<string>; readonly missing: ReadonlySet<string> } => {
  const entries = entriesOf(config, wanted.keys())
  const unheld = [...wanted].filter(([agentId, entry]) => !sameEntry(entries.get(agentId), entry)).map(([agentId]) => agentId)
  return { differing: new Set(unheld.filter((agentId) => entries.has(agentId))), missing: new Set(unheld.filter((agentId) => !entries.has(agentId))) }
}

/**
 * One batch (the caller holds the gateway's config lock): `config.get`, then one `config.patch`
 * of every wanted entry that differs from the file, with its `baseHash`; a stale hash is re-read
 * and re-applied (`configConflict`). An entry missing from the file is never re-added
 * (docs/gateway-protocol.md §5 config.patch). Output: the agent ids whose entry changed.
 * Errors: GatewayError.
 */
export const writeConfigBatch = (target: GatewayTarget, wanted: ReadonlyMap<string, AgentEntry>) =>
  Effect.gen(function* () {
    const config = yield* gatewayCall(target, "config.get", {})
    // The file (`parsed`) is what a patch merges into; the runtime view can lag a create.
    const current = config.parsed ?? config.config
    const entries = entriesOf(current, wanted.keys())
    // An entry missing from the file belongs to an agent deleted meanwhile: never re-add it.
    const changed = [...wanted].filter(([agentId, entry]) => {
      const existing = entries.get(agentId)
      return existing !== undefined && !sameEntry(existing, entry)
    })
    if (changed.length === 0) return new Set<string>()
    const patch = Object.fromEntries(
      changed.map(([agentId, entry]) => [agentId, { name: entry.name, identity: { name: entry.name }, heartbeat: entry.heartbeat }])
    )
    yield* gatewayCall(target, "config.patch", {
      raw: JSON.stringify({ agents: { entries: patch } }),
      baseHash: config.hash,
      note: `switchyard: ${changed.length} agent entr${changed.length === 1 ? "y" : "ies"}`
    })
    yield* recordConfigPatch(changed.length)
    return new Set(changed.map(([agentId]) => agentId))
  }).pipe(retryOnFailure(configConflict))
