import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { AgentStreamQuery, type AgentChangeEvent as AgentChangeEventType, type transitionView } from "../agentStreamContract.ts"
import { IdParams } from "../contract.ts"
import type { Conforms, Expect } from "./conforms.ts"
import { PageQueryDoc } from "./described.ts"
import { adminOperation, answer } from "./legacyOperations.ts"
import { AgentView, pageOf } from "./viewSchemas.ts"

const time = z.iso.datetime({ offset: true })

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

const AgentStreamQueryDoc = AgentStreamQuery.extend({
  board_id: AgentStreamQuery.shape.board_id.meta({ description: "Only agents on this board when the change happened." }),
  gateway_id: AgentStreamQuery.shape.gateway_id.meta({ description: "Only agents on this gateway." }),
  last_event_id: AgentStreamQuery.shape.last_event_id.meta({ description: "Resume after this cursor when the `Last-Event-ID` header cannot be sent (the header wins)." })
})

/** `/api/v1/agents/stream` and `/api/v1/agents/{id}/transitions` (admin). */
export const streamPaths: ZodOpenApiPathsObject = {
  "/api/v1/agents/stream": {
    get: adminOperation("agents", {
      operationId: "streamAgents",
      summary: "Follow agent changes (server-sent events)",
      description:
        "`text/event-stream`: every transition of every matching agent as it commits, as `event: agent`, `id: <cursor>`, `data:` an AgentChangeEvent. Reconnect with `Last-Event-ID` to replay what was missed without a gap or duplicate. `: ping` comments every 15 s.",
      requestParams: {
        query: AgentStreamQueryDoc,
        header: z.object({ "last-event-id": z.string().optional().meta({ description: "The last cursor received." }) })
      },
      responses: {
        "200": { description: "The change stream.", content: { "text/event-stream": { schema: z.string().meta({ description: "Server-sent events; `data:` is an AgentChangeEvent." }) } } }
      }
    })
  },
  "/api/v1/agents/{id}/transitions": {
    get: adminOperation("agents", {
      operationId: "listAgentTransitions",
      summary: "An agent's transition history",
      description: "Newest first; kept after the agent is deleted, trimmed to the newest `SWITCHYARD_TRANSITIONS_KEEP_PER_AGENT`.",
      requestParams: { path: IdParams, query: PageQueryDoc },
      responses: { "200": answer("A page of transitions.", pageOf(TransitionView)) },
      failures: [404]
    })
  }
}

export type StreamSchemasConform = [
  Expect<Conforms<ReturnType<typeof transitionView>, typeof TransitionView>>,
  Expect<Conforms<AgentChangeEventType, typeof AgentChangeEvent>>
]
