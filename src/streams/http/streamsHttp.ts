import { Effect } from "effect"
import { agentHistory } from "../../agents/http/agentHistory.ts"
import { serve } from "../../http/serve.ts"
import { TransitionRepo } from "../../store/TransitionRepo.ts"
import { AgentChangeFeed } from "../AgentChangeFeed.ts"
import { eventStreamResponse, PING_EVERY } from "../sse.ts"
import { sseBody } from "./sseBody.ts"
import { streamsApi } from "./streamsApi.ts"
import { lastEventIdOf, transitionView } from "./TransitionView.ts"

/**
 * `GET /api/v1/agents/stream?board_id&gateway_id` is `text/event-stream`: every transition of
 * every matching agent as it commits, on whichever instance made it, as `event: agent`,
 * `id: <cursor>`, `data: {cursor, version, agent, transition}`. The SSE `id` is the global
 * transitions cursor, not the agent's `version`: one `Last-Event-ID` must say how far a client
 * got across every agent of the stream, and only a cursor shared by all agents can. Reconnecting
 * with `Last-Event-ID` (or `?last_event_id=`) replays what was missed, then goes live without a
 * gap or duplicate. Nothing polls the database: see AgentChangeFeed.
 */
export const streamsHttp = serve(streamsApi, {
  streamAgents: ({ query, headers }) =>
    Effect.gen(function* () {
      const header = yield* lastEventIdOf(headers["last-event-id"])
      const feed = yield* AgentChangeFeed
      const changes = feed.changes({ boardId: query.board_id, gatewayId: query.gateway_id }, header ?? query.last_event_id)
      return eventStreamResponse(sseBody(changes, PING_EVERY))
    }),
  listAgentTransitions: ({ params, query }) => agentHistory(params.id, query, (id, page) => Effect.flatMap(TransitionRepo, (repo) => repo.forAgent(id, page)), transitionView)
})
