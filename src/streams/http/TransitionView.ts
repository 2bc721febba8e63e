import { Effect } from "effect"
import { z } from "zod"
import { AgentView, agentView } from "../../agents/http/AgentView.ts"
import { invalid } from "../../http/ApiError.ts"
import type { Shape } from "../../http/Endpoint.ts"
import type { TransitionRow } from "../../store/TransitionRepo.ts"
import type { AgentChange } from "../AgentChangeFeed.ts"
import { time } from "../../http/timestamps.ts"

const cursor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

/**
 * Filters on the board and gateway the agent was on when the change happened. `last_event_id`
 * is for a first connection that cannot send the `Last-Event-ID` header (the header wins).
 * Unknown names are refused (there is no `since`: resume by cursor, docs/operations.md §6.13).
 */
export const AgentStreamQuery = z.strictObject({
  board_id: z.uuid().optional().meta({ description: "Only agents on this board when the change happened." }),
  gateway_id: z.uuid().optional().meta({ description: "Only agents on this gateway." }),
  last_event_id: cursor.optional().meta({ description: "Resume after this cursor when the `Last-Event-ID` header cannot be sent (the header wins)." })
})

export const LastEventIdHeader = z.object({ "last-event-id": z.string().optional().meta({ description: "The last cursor received." }) })

/** The `Last-Event-ID` header: a cursor this stream sent; blank means none. 422 otherwise. */
export const lastEventIdOf = (header: string | undefined) => {
  if (header === undefined || header.trim() === "") return Effect.succeed(undefined)
  const parsed = cursor.safeParse(header.trim())
  return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(invalid("Last-Event-ID: must be a cursor this stream sent (a non-negative integer)"))
}

export const TransitionView = z
  .object({
    cursor: z.int().meta({ description: "Global, commit-ordered; the SSE `id` of the change." }),
    agent_id: z.uuid(),
    gateway_id: z.uuid(),
    board_id: z.uuid().nullable(),
    version: z.int().meta({ description: "The agent's snapshot version this transition produced." }),
    from: z.string().nullable().meta({ description: "State path before; null when the agent was created." }),
    to: z.string().meta({ example: "online" }),
    event: z.string().meta({ example: "agent.heartbeat" }),
    error_tag: z.string().nullable(),
    at: time
  })
  .meta({ id: "Transition" })

export const AgentChangeEvent = z
  .object({
    cursor: z.int(),
    version: z.int(),
    agent: AgentView,
    transition: z.object({ from: z.string().nullable(), to: z.string(), event: z.string(), at: time, error_tag: z.string().nullable() })
  })
  .meta({ id: "AgentChangeEvent", description: "The `data:` of one `event: agent` of GET /api/v1/agents/stream." })

/** One transition: `cursor` (global), `version` (the agent's snapshot version it produced), `from` (null when created) → `to`. */
export const transitionView = (row: TransitionRow): Shape<typeof TransitionView> => ({
  cursor: Number(row.id),
  agent_id: row.agentId,
  gateway_id: row.gatewayId,
  board_id: row.boardId,
  version: Number(row.version),
  from: row.fromState,
  to: row.toState,
  event: row.eventType,
  error_tag: row.errorTag,
  at: row.at.toISOString()
})

export type AgentChangeEvent = Shape<typeof AgentChangeEvent>

/**
 * The data of one `agent` event (its SSE `id` is `cursor`): the agent as `GET /agents/{id}`
 * shows it (no token hash) read right after the change committed, so at `version` or later,
 * and the transition itself.
 */
export const agentChangeEvent = (change: AgentChange): AgentChangeEvent => {
  const { transition } = change
  return {
    cursor: change.cursor,
    version: Number(transition.version),
    agent: agentView(change.agent),
    transition: { from: transition.fromState, to: transition.toState, event: transition.eventType, at: transition.at.toISOString(), error_tag: transition.errorTag }
  }
}
