/**
 * The variables every workspace template may read, and how Switchyard builds them.
 *
 * The same variables as Mission Control's templates (docs/operations.md §6.9, docs/architecture.md
 * §9.6): one flat map of strings plus the two role flags, so templates never reach into nested
 * objects. A main agent has no board, so its `board_*` fields are the empty string.
 */
import { z } from "zod"
import type { IdentityProfile } from "../../machines/agent/agentTypes.ts"

export type { IdentityProfile }

// Values the agent cannot work without: a blank one would render a workspace that silently fails.
const required = z.string().min(1)

export const TemplateContext = z.object({
  agent_name: required,
  /** Switchyard's own agent id (DB uuid), as the agent API reports it. */
  agent_id: required,
  /** The OpenClaw id (`mc-<uuid>`, `lead-<board>`, `mc-gateway-<gateway>`; docs/architecture.md §5.1). */
  gateway_agent_id: required,
  board_id: z.string(),
  board_name: z.string(),
  board_objective: z.string(),
  board_type: z.string(),
  /** The board's success metrics as JSON text ('' when none). */
  board_success_metrics: z.string(),
  /** YYYY-MM-DD, or ''. */
  board_target_date: z.string(),
  board_goal_confirmed: z.boolean(),
  is_board_lead: z.boolean(),
  is_main_agent: z.boolean(),
  session_key: required,
  main_session_key: required,
  workspace_root: required,
  workspace_path: required,
  base_url: required,
  /** The agent's raw API token: a secret, rendered once into AGENTS.md and nowhere else. */
  auth_token: required,
  /** Gateway heartbeat interval as OpenClaw spells it, e.g. `10m`. */
  heartbeat_every: required,
  user_name: z.string(),
  user_preferred_name: z.string(),
  user_pronouns: z.string(),
  user_timezone: z.string(),
  user_notes: z.string(),
  user_context: z.string(),
  identity_role: z.string(),
  identity_communication_style: z.string(),
  identity_emoji: z.string(),
  identity_autonomy_level: z.string(),
  identity_verbosity: z.string(),
  identity_output_format: z.string(),
  identity_update_cadence: z.string(),
  identity_purpose: z.string(),
  identity_personality: z.string(),
  identity_custom_instructions: z.string()
})
export type TemplateContext = z.infer<typeof TemplateContext>


/** Everything `buildTemplateContext` needs; `board` is null for a gateway-main agent. */
export interface TemplateInput {
  agent: {
    /** Switchyard DB uuid. */
    id: string
    name: string
    gatewayAgentId: string
    sessionKey: string
    workspacePath: string
    isBoardLead: boolean
    isMainAgent: boolean
    identityProfile: IdentityProfile | null
    heartbeatEvery: string
  }
  board: {
    id: string
    name: string
    objective?: string | null
    boardType?: string | null
    successMetrics?: Readonly<Record<string, unknown>> | null
    targetDate?: string | null
    goalConfirmed?: boolean
  } | null
  gateway: { workspaceRoot: string; mainSessionKey: string }
  user?: {
    name?: string
    preferredName?: string
    pronouns?: string
    timezone?: string
    notes?: string
    context?: string
  } | null
  baseUrl: string
  authToken: string
}

/** The identity defaults (docs/operations.md §6.9): the three fields every persona gets even when unset. */
const IDENTITY_DEFAULTS = {
  role: "Generalist",
  communication_style: "direct, concise, practical",
  emoji: ":gear:"
} as const

/**
 * Normalisation of one profile value: lists become their non-blank items joined by ", ",
 * strings are trimmed, and anything that ends up blank counts as unset.
 */
const normaliseIdentityValue = (value: unknown): string | undefined => {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) {
    const parts = value.map((item) => String(item).trim()).filter((item) => item.length > 0)
    return parts.length > 0 ? parts.join(", ") : undefined
  }
  const text = String(value).trim()
  return text.length > 0 ? text : undefined
}

const identityField = (profile: IdentityProfile | null, field: string, fallback: string): string => {
  // Own keys only: a stored profile is untrusted JSON and must not read `constructor` and friends.
  if (profile === null || typeof profile !== "object" || !Object.hasOwn(profile, field)) return fallback
  return normaliseIdentityValue(profile[field]) ?? fallback
}

/**
 * Builds the template context for a board agent or (with `board: null`) the gateway-main agent.
 *
 * Identity rules (docs/operations.md §6.9): role, communication_style and emoji fall back to
 * "Generalist" / "direct, concise, practical" / ":gear:", the other identity fields to "".
 * The preferred name is the first word of the user's preferred name. Throws a ZodError (a defect,
 * not a typed failure) when a required value such as `baseUrl` or `authToken` is blank.
 */
export const buildTemplateContext = (input: TemplateInput): TemplateContext => {
  const { agent, board, gateway } = input
  const user = input.user ?? null
  const profile = agent.identityProfile
  return TemplateContext.parse({
    agent_name: agent.name,
    agent_id: agent.id,
    gateway_agent_id: agent.gatewayAgentId,
    board_id: board?.id ?? "",
    board_name: board?.name ?? "",
    board_objective: board?.objective ?? "",
    board_type: board?.boardType ?? "",
    board_success_metrics: board?.successMetrics == null ? "" : JSON.stringify(board.successMetrics),
    board_target_date: board?.targetDate ?? "",
    board_goal_confirmed: board?.goalConfirmed ?? false,
    is_board_lead: agent.isBoardLead,
    is_main_agent: agent.isMainAgent,
    session_key: agent.sessionKey,
    main_session_key: gateway.mainSessionKey,
    workspace_root: gateway.workspaceRoot,
    workspace_path: agent.workspacePath,
    base_url: input.baseUrl,
    auth_token: input.authToken,
    heartbeat_every: agent.heartbeatEvery,
    user_name: user?.name ?? "",
    user_preferred_name: (user?.preferredName ?? "").trim().split(/\s+/)[0] ?? "",
    user_pronouns: user?.pronouns ?? "",
    user_timezone: user?.timezone ?? "",
    user_notes: user?.notes ?? "",
    user_context: user?.context ?? "",
    identity_role: identityField(profile, "role", IDENTITY_DEFAULTS.role),
    identity_communication_style: identityField(profile, "communication_style", IDENTITY_DEFAULTS.communication_style),
    identity_emoji: identityField(profile, "emoji", IDENTITY_DEFAULTS.emoji),
    identity_autonomy_level: identityField(profile, "autonomy_level", ""),
    identity_verbosity: identityField(profile, "verbosity", ""),
    identity_output_format: identityField(profile, "output_format", ""),
    identity_update_cadence: identityField(profile, "update_cadence", ""),
    identity_purpose: identityField(profile, "purpose", ""),
    identity_personality: identityField(profile, "personality", ""),
    identity_custom_instructions: identityField(profile, "custom_instructions", "")
  })
}
