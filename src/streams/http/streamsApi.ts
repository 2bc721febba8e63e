import { z } from "zod"
import { PageQuery } from "../../http/contract.ts"
import { answer, endpoints, getById, raw } from "../../http/Endpoint.ts"
import { pageOf } from "../../http/lists.ts"
import { AgentStreamQuery, LastEventIdHeader, TransitionView } from "./TransitionView.ts"

/** The push stream of agent changes and the transition history it is cut from (admin; docs/architecture.md §8). */
export const streamsApi = endpoints({
  streamAgents: {
    method: "get",
    path: "/api/v1/agents/stream",
    access: { kind: "admin", resource: "agents" },
    summary: "Follow agent changes (server-sent events)",
    description:
      "`text/event-stream`: every transition of every matching agent as it commits, as `event: agent`, `id: <cursor>`, `data:` an AgentChangeEvent. Reconnect with `Last-Event-ID` to replay what was missed without a gap or duplicate. `: ping` comments every 15 s.",
    query: AgentStreamQuery,
    headers: LastEventIdHeader,
    responses: { 200: raw("The change stream.", "text/event-stream", z.string().meta({ description: "Server-sent events; `data:` is an AgentChangeEvent." })) }
  },
  listAgentTransitions: getById("/api/v1/agents/{id}/transitions", "agents", "An agent's transition history", answer("A page of transitions.", pageOf(TransitionView)), {
    description: "Newest first; kept after the agent is deleted, trimmed to the newest `SWITCHYARD_TRANSITIONS_KEEP_PER_AGENT`.",
    query: PageQuery
  })
})
