import { z } from "zod"
import { name, uuid } from "../../http/contract.ts"
import { isLiveCursor } from "../../store/AgentRepo.ts"
import { AGENT_PROBLEMS, DEFAULT_STUCK_AFTER_S } from "../../store/fleetQueries.ts"
import { DEFAULT_HEARTBEAT } from "../defaultHeartbeat.ts"
import { knownStatesAndTags } from "../machineVocabulary.ts"

/** Request schemas of `/api/v1/agents` and the heartbeats (docs/operations.md §6.2). Types are inferred. */

/**
 * A heartbeat cadence such as "10m", "30s" or "1h", or "0m" for no LLM heartbeats: liveness then
 * comes from the gateway's own signals (`agents.entries.<id>.heartbeat.every`; docs/operations.md §8).
 */
export const HeartbeatConfigInput = z.strictObject({
  every: z.string().regex(/^(0m|[1-9]\d*(s|m|h))$/, 'must look like "30s", "10m" or "1h", or "0m" for no LLM heartbeats').default(DEFAULT_HEARTBEAT.every),
  target: z.enum(["none", "last", "owner"]).default(DEFAULT_HEARTBEAT.target)
})

const IdentityProfile = z.record(z.string().max(64), z.union([z.string().max(2_000), z.array(z.string().max(500)).max(20), z.null()]))

const agentFields = {
  name,
  heartbeat_config: HeartbeatConfigInput.optional(),
  identity_profile: IdentityProfile.nullable().optional(),
  identity_template: z.string().max(24_000).nullable().optional(),
  soul_template: z.string().max(24_000).nullable().optional()
}

/** `board_id` is required of the admin; a lead's agents always go on the lead's own board. */
export const AgentCreate = z.strictObject({ ...agentFields, board_id: uuid.optional(), is_board_lead: z.boolean().default(false) })

/**
 * Adopt (docs/operations.md §6.2): an agent that exists on the gateway becomes a worker of
 * `board_id`. `keep_files` (default true) keeps its workspace files but AGENTS.md.
 */
export const AgentAdopt = z.strictObject({
  gateway_agent_id: z.string().min(1).max(128).regex(/^[a-z0-9][a-z0-9_-]*$/, "must be a gateway agent id as agents.list shows it (lowercase letters, digits, - and _)"),
  board_id: uuid,
  name,
  keep_files: z.boolean().default(true),
  heartbeat_config: HeartbeatConfigInput.optional()
})

/** `ensure lead`: every field optional; what is given is reconciled onto an existing lead. */
export const LeadEnsure = z.strictObject({
  name: name.optional(),
  heartbeat_config: HeartbeatConfigInput.optional(),
  identity_profile: IdentityProfile.nullable().optional()
})

/** `status` is refused with a clear message: it is driven by heartbeats and the lifecycle. */
/**
 * `is_gateway_main` converts between the gateway-main agent and a board agent (docs/operations.md §6.2);
 * `board_id` names the board a main agent moves to, and is allowed only for that.
 */
export const AgentUpdate = z
  .strictObject({ ...agentFields, name: name.optional(), status: z.unknown().optional(), is_gateway_main: z.boolean().optional(), board_id: uuid.optional() })
  .refine((body) => body.status === undefined, { message: "status is controlled by heartbeats and the lifecycle; it cannot be set", path: ["status"] })
  .refine((body) => body.board_id === undefined || body.is_gateway_main === false, {
    message: "board_id is only for converting the gateway-main agent to a board agent (with is_gateway_main: false)",
    path: ["board_id"]
  })

const stateOrTag = z.string().regex(/^[a-z][a-z.]*$/, "must be a state path such as online or provisioning.awaiting, or a tag")

export const WaitQuery = z.object({
  wait_for: stateOrTag.optional().meta({
    description: "Answer once the agent reaches this state or tag (e.g. `online`, `provisioning.awaiting`, `busy`, `live`; see GET /api/v1/machines/agent); 202 with the current state if not by `timeout_ms`."
  }),
  timeout_ms: z.coerce.number().int().min(1).max(600_000).default(30_000).meta({ description: "How long `wait_for` waits, ms." })
})

export const AgentUpdateQuery = WaitQuery.extend({
  force: z.stringbool().default(false).meta({ description: "`true`: apply even when nothing changed (re-render, new token, wake)." })
})

/** The top-level states a live agent can be in (the `status` column). */
const agentStatus = z.enum(["provisioning", "online", "updating", "offline", "deleting"])
const agentStatuses: ReadonlySet<string> = new Set(agentStatus.options)

/** How long a busy agent may stay so before it is `stuck`, seconds (at most 30 days). */
export const stuckAfterS = z.coerce.number().int().min(1).max(2_592_000).default(DEFAULT_STUCK_AFTER_S)

export const AgentListQuery = z.object({
  board_id: uuid.optional().meta({ description: "Only this board's agents." }),
  gateway_id: uuid.optional().meta({ description: "Only this gateway's agents." }),
  limit: z.coerce.number().int().min(1).max(200).default(200),
  offset: z.coerce.number().int().min(0).default(0),
  after: z
    .string()
    .refine((value) => value === "" || isLiveCursor(value), "must be empty or the `next` of a previous page")
    .optional()
    .meta({
      description: "Keyset paging: empty for the first page, then the `next` of the previous one. The answer is then `{items, limit, next}` (no `total`, no `offset`), and each page costs the same however deep."
    }),
  status: agentStatus.optional().meta({ description: "Only agents in this top-level state." }),
  /** A state path of the agent machine (not a tag), or a prefix of one. */
  state: z
    .string()
    .refine((value) => knownStatesAndTags.has(value) && agentStatuses.has(value.split(".")[0] ?? ""), "must be a state path of the agent machine, e.g. `provisioning` or `provisioning.failed`")
    .optional()
    .meta({ description: "Only agents in this state path or under it: `provisioning` matches `provisioning.*`, `provisioning.failed` that state alone." }),
  q: z.string().trim().min(1).max(120).optional().meta({ description: "Only agents whose name contains this text, ignoring case." }),
  problem: z.enum(AGENT_PROBLEMS).optional().meta({
    description:
      "Only agents with this problem: `failed` (a `*.failed` state), `retrying` (`*.retrying`, `*.wakeRetrying`), `stuck` (busy, not failed, for longer than `stuck_after_s`), `gateway_missing` or `heartbeat_mismatch` (offline for that cause), `offline` (any cause), or `drifted` (managed workspace files differ from what was written)."
  }),
  stuck_after_s: stuckAfterS.meta({ description: "`problem=stuck`: busy for longer than this, seconds." })
})

export const HeartbeatBody = z.strictObject({ status: z.string().trim().min(1).max(64).optional() })
export const HeartbeatOrCreateBody = z.strictObject({
  name,
  board_id: uuid.optional(),
  status: z.string().trim().min(1).max(64).optional()
})

