import { Effect } from "effect"
import { templateEnvironment } from "../templates/templateEnvironment.ts"
import { HISTORY_LIMIT } from "./AgentInbox.ts"

export const SKILL_FILENAME = "switchyard_inbox.md"

/** The line for the agent's heartbeat checklist that makes it use the skill each cycle. */
export const HEARTBEAT_ADDITION = "- Check your Switchyard inbox with the switchyard_inbox skill: poll, do each message, report its result."

/**
 * Clawith's setup guide, with the service's real base URL and without the key
 * (docs/operations.md §6.16): only its hash is stored, so the skill names the variable that holds it.
 * Rendered from `templates/skills/switchyard_inbox.md.njk` by the one template Environment
 * (a skill file, not a workspace file: it is served, never written to a workspace).
 */
export const setupGuide = (input: { readonly agentName: string; readonly agentId: string; readonly baseUrl: string; readonly leaseMs: number }) =>
  Effect.sync(() => ({
    skill_filename: SKILL_FILENAME,
    skill_content: templateEnvironment.render(`skills/${SKILL_FILENAME}.njk`, {
      agent_name: input.agentName,
      agent_id: input.agentId,
      base_url: input.baseUrl,
      lease_seconds: Math.max(1, Math.round(input.leaseMs / 1000)),
      history_limit: HISTORY_LIMIT
    }),
    heartbeat_addition: HEARTBEAT_ADDITION,
    base_url: input.baseUrl
  }))
