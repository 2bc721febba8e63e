import { z } from "zod"
import { IdParams, PageQuery, uuid } from "../../http/contract.ts"
import { AgentAdopt, AgentCreate, AgentListQuery, AgentUpdate, AgentUpdateQuery, HeartbeatBody, HeartbeatOrCreateBody, WaitQuery } from "./agentRequests.ts"
import { adminGet, ALL_AGENTS, answer, endpoints, getById } from "../../http/Endpoint.ts"
import { pageOf } from "../../http/lists.ts"
import { ActivityView, AgentView } from "./AgentView.ts"

/** The activity log's filters and page (an agent reads only its own entries). */
const ActivityQuery = z.object({
  agent_id: uuid.optional(),
  board_id: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0)
})

const agent = (description: string) => answer(description, AgentView)
const still = agent("Accepted; `wait_for` was not reached within `timeout_ms` (the current state).")
const admin = { kind: "admin", resource: "agents" } as const

/**
 * `/api/v1/agents` (admin; a board lead may create workers), the heartbeats agents send
 * themselves (docs/operations.md §6.2), and the activity log. Handlers validate, send an event to
 * the agent's actor (or create it) and answer with the persisted read model.
 */
export const agentsApi = endpoints({
  listAgents: adminGet(
    "/api/v1/agents",
    "agents",
    "List agents",
    answer(
      "A page of the agents that pass every filter given, oldest first (by creation, then id: a stable order): by `offset` with the `total`, or after the cursor `after` with the cursor `next` of the page after it (null at the end).",
      z.union([pageOf(AgentView), z.object({ items: z.array(AgentView), limit: z.int(), next: z.string().nullable() })])
    ),
    { query: AgentListQuery }
  ),
  createAgent: {
    method: "post",
    path: "/api/v1/agents",
    access: {
      kind: "agentsOrAdmin",
      resource: "agents",
      roles: ["agent-lead"],
      denied: "only a board lead may create agents",
      intent: "Create a new worker agent on your board.",
      whenToUse: ["You lead a board and need another worker for a task", "Never to replace yourself or to create a lead"]
    },
    summary: "Create an agent",
    description:
      "The admin names `board_id`. A board lead creates workers on its own board only (`board_id` may be left out), up to the board's `max_agents` (409 beyond); it cannot create a lead. Provisioning starts at once.",
    query: WaitQuery,
    body: AgentCreate,
    responses: { 201: agent("Created; provisioning has started (or reached `wait_for`)."), 202: still },
    failures: [400, 404, 409]
  },
  adoptAgent: {
    method: "post",
    path: "/api/v1/gateways/{id}/agents/adopt",
    access: { kind: "admin", resource: "gateways" },
    summary: "Adopt an agent that exists on the gateway",
    description:
      "Takes `gateway_agent_id`, an agent already on gateway `{id}` (e.g. an orphan listed by `GET /api/v1/gateways/{id}/liveness`), under management as a worker of `board_id`: no `agents.create`; its workspace files are kept (only AGENTS.md, which carries its token and check-in, is written); with `keep_files: false` AGENTS.md, SOUL.md and IDENTITY.md are rendered as for a create, while the agent's own USER.md and MEMORY.md stay (written only when missing) and BOOTSTRAP.md is never sent; its heartbeat config is pushed and it is woken as after a create. 404: no such gateway; 422: no such board on it, no such agent in its `agents.list`, its default agent, or an id reserved for a board lead (`lead-…`) or a main agent (`mc-gateway-…`); 409: already managed (including the old gateway agent of a conversion not yet applied), name taken, gateway being deleted; 502: the gateway could not be asked.",
    params: IdParams,
    query: WaitQuery,
    body: AgentAdopt,
    responses: { 201: agent("Adopted; provisioning has started (or reached `wait_for`)."), 202: still },
    failures: [404, 409, 422, 502]
  },
  getAgent: getById("/api/v1/agents/{id}", "agents", "Read an agent", agent("The agent, with `lifecycle` details.")),
  updateAgent: {
    method: "patch",
    path: "/api/v1/agents/{id}",
    access: admin,
    summary: "Update an agent",
    description:
      "Sends `agent.update`: re-renders the workspace files, rotates the token, resets the session and wakes the agent. `status` is not writable. `is_gateway_main` converts between the gateway-main agent and a board agent.",
    params: IdParams,
    query: AgentUpdateQuery,
    body: AgentUpdate,
    responses: { 200: agent("The agent once the update was accepted (or `wait_for` reached)."), 202: still },
    failures: [400, 404, 409]
  },
  deleteAgent: {
    method: "delete",
    path: "/api/v1/agents/{id}",
    access: admin,
    summary: "Delete an agent",
    description: "Sends `agent.delete`: the agent is removed from its gateway, then from the read model. Its in-progress tasks return to the inbox.",
    params: IdParams,
    query: WaitQuery,
    responses: { 200: agent("`wait_for` was reached (e.g. `deleted`)."), 202: agent("Deletion under way.") },
    failures: [404]
  },
  retryAgent: {
    method: "post",
    path: "/api/v1/agents/{id}/retry",
    access: admin,
    summary: "Retry a failed agent",
    description: "Sends `agent.retry`, which leaves a `failed` state.",
    params: IdParams,
    query: WaitQuery,
    responses: { 200: agent("The agent after the retry was accepted."), 202: still },
    failures: [404]
  },
  listAgentActivity: getById("/api/v1/agents/{id}/activity", "agents", "An agent's lifecycle log", answer("A page of the agent's activity.", pageOf(ActivityView)), {
    description: "Newest first: created, status changes, failures; never one row per heartbeat. Kept after the agent is deleted.",
    query: PageQuery
  }),
  agentHeartbeat: {
    method: "post",
    unlogged: "when-ok",
    path: "/api/v1/agent/heartbeat",
    access: { kind: "agents", roles: ALL_AGENTS, intent: "Check in: tell Switchyard you are alive.", whenToUse: ["At the start of every heartbeat cycle", "Right after you are woken"] },
    summary: "Check in (heartbeat)",
    description: "The heartbeat written in the agent's AGENTS.md: `agent.heartbeat` for the token's own agent. It takes no body (an optional `{status}` is accepted).",
    body: HeartbeatBody,
    bodyOptional: true,
    responses: { 200: agent("You are checked in; your current state.") },
    failures: [400]
  },
  heartbeatByName: {
    method: "post",
    unlogged: "when-ok",
    path: "/api/v1/agents/heartbeat",
    access: {
      kind: "agentsOrAdmin",
      resource: "agents",
      roles: ALL_AGENTS,
      intent: "Check in, Mission Control style (name and board in the body).",
      whenToUse: ["Only when your instructions send `{name, board_id, status}`; otherwise use POST /api/v1/agent/heartbeat"]
    },
    summary: "Heartbeat, or create by name",
    description:
      "An agent heartbeats itself (`name` and `board_id` are ignored). The admin finds the agent by `name` on `board_id`, heartbeats it, or creates it when there is none (201).",
    body: HeartbeatOrCreateBody,
    responses: { 200: agent("Heartbeat recorded."), 201: agent("The admin's agent did not exist and was created.") },
    failures: [400, 404]
  },
  heartbeatAgent: {
    method: "post",
    unlogged: "when-ok",
    path: "/api/v1/agents/{id}/heartbeat",
    access: {
      kind: "agentsOrAdmin",
      resource: "agents",
      roles: ALL_AGENTS,
      intent: "Check in under your own agent id.",
      whenToUse: ["When your instructions name your agent id in the heartbeat path"]
    },
    summary: "Heartbeat an agent by id",
    description: "An agent may heartbeat only itself (403 otherwise); the admin may heartbeat any agent.",
    params: IdParams,
    body: HeartbeatBody,
    bodyOptional: true,
    responses: { 200: agent("Heartbeat recorded.") },
    failures: [400, 404]
  },
  listActivity: {
    method: "get",
    path: "/api/v1/activity",
    access: {
      kind: "agentsOrAdmin",
      resource: "activity",
      roles: ALL_AGENTS,
      intent: "Read what has happened to you lately.",
      whenToUse: ["To check whether a message you sent was delivered or answered"]
    },
    summary: "The activity log",
    description:
      "Agent lifecycle, inbox sends, reports and key rotations, newest first. The admin reads everything (filter by `agent_id`, `board_id`); an agent reads only its own entries (403 for another's).",
    query: ActivityQuery,
    responses: { 200: answer("A page of the log.", pageOf(ActivityView)) }
  }
})
