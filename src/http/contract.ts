import { z } from "zod"
import { knownStatesAndTags } from "../agents/machineVocabulary.ts"
import { isLiveCursor } from "../store/AgentRepo.ts"
import { DEFAULT_STUCK_AFTER_S } from "../store/fleetQueries.ts"

/**
 * The HTTP contract: request schemas of `/api/v1` (Mission Control's shapes, docs/operations.md
 * §6.2, §6.7, §6.12), kept apart from the handlers. Every input is validated here; types are inferred.
 */
/** One line, no markdown control characters: names are rendered into the agent's AGENTS.md. */
const name = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(120)
  .regex(/^[^\r\n\t`|<>*#[\]\\]+$/, "must be one line without the characters ` | < > * # [ ] \\")
const uuid = z.uuid()
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/
/** The refinements below read a parsed URL; text that is no URL at all is already refused by `z.url`. */
const whenParsed = (check: (url: URL) => boolean) => (text: string) => {
  const url = URL.parse(text)
  return url === null || check(url)
}
/** `wss://`, or `ws://` to loopback only: the gateway token and device proof must not cross a network in clear. */
const wsUrl = z
  .url({ protocol: /^wss?$/, error: "must be a ws:// or wss:// URL" })
  .max(2_048)
  .refine(whenParsed((url) => url.protocol === "wss:" || LOOPBACK_HOST.test(url.hostname)), {
    message: "a gateway that is not on loopback must use wss:// (its token would otherwise travel in clear)"
  })
  // The URL is shown and logged; credentials belong in `token`.
  .refine(whenParsed((url) => url.username === "" && url.password === ""), { message: "must not carry credentials; pass the token in `token`" })
const absolutePath = z.string().trim().regex(/^\//, "must be an absolute path")

export const IdParams = z.object({ id: uuid })

export const GatewayCreate = z.strictObject({ name, url: wsUrl, token: z.string().min(1).max(4_096), workspace_root: absolutePath })
export const GatewayUpdate = GatewayCreate.partial()
/** `DELETE /gateways/{id}?force=true`: agents whose gateway cleanup failed are removed locally. */
export const ForceQuery = z.object({ force: z.stringbool().default(false).meta({ description: "`true`: agents whose removal from the gateway failed are removed locally only." }) })

/** A board's goal and settings (docs/operations.md §6.15); all optional, database defaults apply. */
const boardFields = {
  board_type: z.enum(["goal", "general"]).optional(),
  objective: z.string().trim().max(4_000).nullable().optional(),
  success_metrics: z.record(z.string(), z.unknown()).nullable().optional(),
  target_date: z.iso.date().nullable().optional(),
  goal_confirmed: z.boolean().optional(),
  max_agents: z.number().int().min(0).max(1_000).optional(),
  paused: z.boolean().optional()
}

export const BoardCreate = z.strictObject({ name, gateway_id: uuid, ...boardFields })
export const BoardUpdate = z.strictObject({ name: name.optional(), ...boardFields })
export const BoardQuery = z.object({ gateway_id: uuid.optional() })

/** A heartbeat cadence such as "10m", "30s" or "1h" (`agents.entries.<id>.heartbeat.every`). */
export const HeartbeatConfigInput = z.strictObject({
  every: z.string().regex(/^[1-9]\d*(s|m|h)$/, 'must look like "30s", "10m" or "1h" (more than zero)').default("10m"),
  target: z.enum(["none", "last", "owner"]).default("none")
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

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: "Page size." }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: "Rows to skip." })
})

/** The top-level states a live agent can be in (the `status` column). */
const agentStatus = z.enum(["provisioning", "online", "updating", "offline", "deleting"])
const agentStatuses: ReadonlySet<string> = new Set(agentStatus.options)

/** How long a busy agent may stay so before it is `stuck`, seconds (at most 30 days). */
const stuckAfterS = z.coerce.number().int().min(1).max(2_592_000).default(DEFAULT_STUCK_AFTER_S)

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
  problem: z.enum(["failed", "retrying", "offline", "stuck"]).optional().meta({
    description: "Only agents with this problem: `failed` (a `*.failed` state), `retrying` (`*.retrying`, `*.wakeRetrying`), `offline`, or `stuck` (busy, not failed, for longer than `stuck_after_s`)."
  }),
  stuck_after_s: stuckAfterS.meta({ description: "`problem=stuck`: busy for longer than this, seconds." })
})

export const FleetSummaryQuery = z.object({ stuck_after_s: stuckAfterS.meta({ description: "An agent busy for longer than this (seconds) counts as stuck." }) })

const taskStatus = z.enum(["inbox", "in_progress", "review", "done"])

export const TaskParams = z.object({ id: uuid, task_id: uuid })
export const TaskCreate = z.strictObject({ title: z.string().trim().min(1).max(500), status: taskStatus.default("inbox"), assigned_agent_id: uuid.nullable().default(null) })
export const TaskUpdate = z.strictObject({ title: z.string().trim().min(1).max(500).optional(), status: taskStatus.optional(), assigned_agent_id: uuid.nullable().optional() })
export const TaskQuery = z.object({ status: taskStatus.optional(), assigned_agent_id: uuid.optional() })

export const HeartbeatBody = z.strictObject({ status: z.string().trim().min(1).max(64).optional() })
export const HeartbeatOrCreateBody = z.strictObject({
  name,
  board_id: uuid.optional(),
  status: z.string().trim().min(1).max(64).optional()
})
