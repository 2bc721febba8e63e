import { Effect } from "effect"
import { z } from "zod"
import type { AgentChange } from "../streams/AgentChangeFeed.ts"
import type { TransitionRow } from "../store/TransitionRepo.ts"
import { invalid } from "./ApiError.ts"
import { agentView } from "./views.ts"

/**
 * The agent change stream and transition history contract (docs/architecture.md §8, §6.2): what
 * `GET /api/v1/agents/stream` accepts and sends, and the rows of
 * `GET /api/v1/agents/{id}/transitions`.
 */
const cursor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

/**
 * Filters on the board and gateway the agent was on when the change happened. `last_event_id`
 * is for a first connection that cannot send the `Last-Event-ID` header (the header wins).
 * Unknown names are refused (there is no `since`: resume by cursor, docs/operations.md §6.13).
 */
export const AgentStreamQuery = z.strictObject({
  board_id: z.uuid().optional(),
  gateway_id: z.uuid().optional(),
  last_event_id: cursor.optional()
})

/** The `Last-Event-ID` header: a cursor this stream sent; blank means none. 422 otherwise. */
export const lastEventIdOf = (header: string | undefined) => {
  if (header === undefined || header.trim() === "") return Effect.succeed(undefined)
  const parsed = cursor.safeParse(header.trim())
  return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(invalid("Last-Event-ID: must be a cursor this stream sent (a non-negative integer)"))
}

/** One transition: `cursor` (global), `version` (the agent's snapshot version it produced), `from` (null when created) → `to`. */
export const transitionView = (row: TransitionRow) => ({
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

/**
 * The data of one `agent` event (its SSE `id` is `cursor`): the agent as `GET /agents/{id}`
 * shows it (no token hash) read right after the change committed, so at `version` or later,
 * and the transition itself.
 */
export const agentChangeEvent = (change: AgentChange) => {
  const { transition } = change
  return {
    cursor: change.cursor,
    version: Number(transition.version),
    agent: agentView(change.agent),
    transition: { from: transition.fromState, to: transition.toState, event: transition.eventType, at: transition.at.toISOString(), error_tag: transition.errorTag }
  }
}

export type AgentChangeEvent = ReturnType<typeof agentChangeEvent>
