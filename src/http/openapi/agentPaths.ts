import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { AgentCreate, AgentUpdate, HeartbeatBody, HeartbeatOrCreateBody, IdParams } from "../contract.ts"
import { AgentListQueryDoc, AgentUpdateQueryDoc, PageQueryDoc, WaitQueryDoc } from "./described.ts"
import { ALL_AGENTS, adminOperation, agentOperation, answer, json, optionalJson } from "./legacyOperations.ts"
import { ActivityView, AgentView, pageOf } from "./viewSchemas.ts"

const agent = (description: string) => answer(description, AgentView)
const still = agent("Accepted; `wait_for` was not reached within `timeout_ms` (the current state).")

/** `/api/v1/agents`, `/api/v1/agent/heartbeat`: the agents and the calls agents make themselves. */
export const agentPaths: ZodOpenApiPathsObject = {
  "/api/v1/agents": {
    get: adminOperation("agents", {
      operationId: "listAgents",
      summary: "List agents",
      requestParams: { query: AgentListQueryDoc },
      responses: {
        "200": answer(
          "A page of the agents that pass every filter given, oldest first (by creation, then id: a stable order): by `offset` with the `total`, or after the cursor `after` with the cursor `next` of the page after it (null at the end).",
          z.union([pageOf(AgentView), z.object({ items: z.array(AgentView), limit: z.int(), next: z.string().nullable() })])
        )
      }
    }),
    post: agentOperation(["agent-lead"], {
      operationId: "createAgent",
      summary: "Create an agent",
      description:
        "The admin names `board_id`. A board lead creates workers on its own board only (`board_id` may be left out), up to the board's `max_agents` (409 beyond); it cannot create a lead. Provisioning starts at once.",
      intent: "Create a new worker agent on your board.",
      whenToUse: ["You lead a board and need another worker for a task", "Never to replace yourself or to create a lead"],
      admin: "agents",
      requestParams: { query: WaitQueryDoc },
      requestBody: json(AgentCreate),
      responses: { "201": agent("Created; provisioning has started (or reached `wait_for`)."), "202": still },
      failures: [400, 404, 409]
    })
  },
  "/api/v1/agents/{id}": {
    get: adminOperation("agents", {
      operationId: "getAgent",
      summary: "Read an agent",
      requestParams: { path: IdParams },
      responses: { "200": agent("The agent, with `lifecycle` details.") },
      failures: [404]
    }),
    patch: adminOperation("agents", {
      operationId: "updateAgent",
      summary: "Update an agent",
      description:
        "Sends `agent.update`: re-renders the workspace files, rotates the token, resets the session and wakes the agent. `status` is not writable. `is_gateway_main` converts between the gateway-main agent and a board agent.",
      requestParams: { path: IdParams, query: AgentUpdateQueryDoc },
      requestBody: json(AgentUpdate),
      responses: { "200": agent("The agent once the update was accepted (or `wait_for` reached)."), "202": still },
      failures: [400, 404, 409]
    }),
    delete: adminOperation("agents", {
      operationId: "deleteAgent",
      summary: "Delete an agent",
      description: "Sends `agent.delete`: the agent is removed from its gateway, then from the read model. Its in-progress tasks return to the inbox.",
      requestParams: { path: IdParams, query: WaitQueryDoc },
      responses: { "200": agent("`wait_for` was reached (e.g. `deleted`)."), "202": agent("Deletion under way.") },
      failures: [404]
    })
  },
  "/api/v1/agents/{id}/retry": {
    post: adminOperation("agents", {
      operationId: "retryAgent",
      summary: "Retry a failed agent",
      description: "Sends `agent.retry`, which leaves a `failed` state.",
      requestParams: { path: IdParams, query: WaitQueryDoc },
      responses: { "200": agent("The agent after the retry was accepted."), "202": still },
      failures: [404]
    })
  },
  "/api/v1/agents/{id}/activity": {
    get: adminOperation("agents", {
      operationId: "listAgentActivity",
      summary: "An agent's lifecycle log",
      description: "Newest first: created, status changes, failures; never one row per heartbeat. Kept after the agent is deleted.",
      requestParams: { path: IdParams, query: PageQueryDoc },
      responses: { "200": answer("A page of the agent's activity.", pageOf(ActivityView)) },
      failures: [404]
    })
  },
  "/api/v1/agent/heartbeat": {
    post: agentOperation(ALL_AGENTS, {
      operationId: "agentHeartbeat",
      summary: "Check in (heartbeat)",
      description: "The heartbeat written in the agent's AGENTS.md: `agent.heartbeat` for the token's own agent. It takes no body (an optional `{status}` is accepted).",
      intent: "Check in: tell Switchyard you are alive.",
      whenToUse: ["At the start of every heartbeat cycle", "Right after you are woken"],
      requestBody: optionalJson(HeartbeatBody),
      responses: { "200": agent("You are checked in; your current state.") },
      failures: [400]
    })
  },
  "/api/v1/agents/heartbeat": {
    post: agentOperation(ALL_AGENTS, {
      operationId: "heartbeatByName",
      summary: "Heartbeat, or create by name",
      description:
        "An agent heartbeats itself (`name` and `board_id` are ignored). The admin finds the agent by `name` on `board_id`, heartbeats it, or creates it when there is none (201).",
      intent: "Check in, Mission Control style (name and board in the body).",
      whenToUse: ["Only when your instructions send `{name, board_id, status}`; otherwise use POST /api/v1/agent/heartbeat"],
      admin: "agents",
      requestBody: json(HeartbeatOrCreateBody),
      responses: { "200": agent("Heartbeat recorded."), "201": agent("The admin's agent did not exist and was created.") },
      failures: [400, 404]
    })
  },
  "/api/v1/agents/{id}/heartbeat": {
    post: agentOperation(ALL_AGENTS, {
      operationId: "heartbeatAgent",
      summary: "Heartbeat an agent by id",
      description: "An agent may heartbeat only itself (403 otherwise); the admin may heartbeat any agent.",
      intent: "Check in under your own agent id.",
      whenToUse: ["When your instructions name your agent id in the heartbeat path"],
      admin: "agents",
      requestParams: { path: IdParams },
      requestBody: optionalJson(HeartbeatBody),
      responses: { "200": agent("Heartbeat recorded.") },
      failures: [400, 404]
    })
  }
}
