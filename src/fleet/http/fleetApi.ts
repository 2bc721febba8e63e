import { IdParams } from "../../http/contract.ts"
import { adminGet, answer, endpoints, getById } from "../../http/Endpoint.ts"
import { listOf } from "../../http/lists.ts"
import { FleetSummaryQuery, ForceQuery, GatewayCreate, GatewayProbeBody, GatewayUpdate, HistoryQuery, IdempotencyKeyHeader, SessionMessageBody, SessionParams } from "./fleetRequests.ts"
import { FleetSummaryView } from "./FleetSummaryView.ts"
import { GatewayCommands, GatewayHistory, GatewaySessionOne, GatewaySessions, GatewayStatus, MessageAccepted } from "./GatewayStatusView.ts"
import { DeletingGateway, GatewayDeleted, GatewayView, RegisteredGateway, UpdatedGateway } from "./GatewayView.ts"

const gateways = { kind: "admin", resource: "gateways" } as const

/**
 * `/api/v1/gateways` (admin): administration (create and url/token changes run the runtime check
 * first; delete removes our agents from the gateway before the row goes), the runtime queries
 * (docs/operations.md §6.7), and `/api/v1/fleet/summary`.
 */
export const fleetApi = endpoints({
  createGateway: {
    method: "post",
    path: "/api/v1/gateways",
    access: gateways,
    summary: "Register a gateway",
    description:
      "Checks the gateway first (reachable, else 502; protocol 4 with the operator scopes and a recent enough release, else 422; nothing is stored when refused), then provisions its main agent. A remote gateway that needs pairing answers 202 with `pairing.request_id`.",
    body: GatewayCreate,
    responses: { 201: answer("Registered; `main_agent_id` is provisioning.", RegisteredGateway), 202: answer("Stored; waiting for the device pairing to be approved.", RegisteredGateway) },
    failures: [400, 409, 502]
  },
  listGateways: adminGet("/api/v1/gateways", "gateways", "List gateways", answer("Every gateway.", listOf(GatewayView))),
  getGateway: getById("/api/v1/gateways/{id}", "gateways", "Read a gateway", answer("The gateway.", GatewayView)),
  updateGateway: {
    method: "patch",
    path: "/api/v1/gateways/{id}",
    access: gateways,
    summary: "Update a gateway",
    description: "A new `url` or `token` is checked before it is stored (422/502 and nothing changes when refused); the main agent is then re-applied.",
    params: IdParams,
    body: GatewayUpdate,
    responses: { 200: answer("The gateway.", UpdatedGateway), 202: answer("Waiting for the device pairing to be approved.", UpdatedGateway) },
    failures: [400, 404, 409, 502]
  },
  deleteGateway: {
    method: "delete",
    path: "/api/v1/gateways/{id}",
    access: gateways,
    summary: "Delete a gateway",
    description:
      "Removes every agent Switchyard created from the gateway (board agents first, the main agent last), then the gateway. Until then the answer is 202 and nothing new may be created on it. Asking again retries failed cleanups.",
    params: IdParams,
    query: ForceQuery,
    responses: { 200: answer("Gone.", GatewayDeleted), 202: answer("Deleting; agents are still being removed.", DeletingGateway) },
    failures: [404]
  },
  checkGateway: {
    method: "post",
    path: "/api/v1/gateways/{id}/check",
    access: gateways,
    summary: "Re-check a gateway",
    description: "Re-runs the runtime check (after a pairing was approved) and ensures the main agent.",
    params: IdParams,
    responses: { 200: answer("Usable.", RegisteredGateway), 202: answer("Still waiting for the pairing approval.", RegisteredGateway) },
    failures: [404, 409, 502]
  },
  probeGateway: {
    method: "post",
    path: "/api/v1/gateways/status",
    access: gateways,
    summary: "Probe an unsaved gateway",
    description: "The token travels in the body, never the URL. An unreachable, too old or unpaired gateway is a 200 with `connected: false` and `error`.",
    body: GatewayProbeBody,
    responses: { 200: answer("What the probe found.", GatewayStatus) },
    failures: [400]
  },
  gatewayStatus: getById("/api/v1/gateways/{id}/status", "gateways", "Probe a saved gateway", answer("What the probe found; `connected: false` with `error` when it failed.", GatewayStatus)),
  listGatewaySessions: getById("/api/v1/gateways/{id}/sessions", "gateways", "List the gateway's sessions", answer("The sessions.", GatewaySessions), {
    description: "`sessions.list`, with the main agent's session ensured.",
    failures: [404, 502]
  }),
  getGatewaySession: {
    method: "get",
    path: "/api/v1/gateways/{id}/sessions/{key}",
    access: gateways,
    summary: "Read one session",
    params: SessionParams,
    responses: { 200: answer("The session.", GatewaySessionOne) },
    failures: [404, 502]
  },
  getGatewaySessionHistory: {
    method: "get",
    path: "/api/v1/gateways/{id}/sessions/{key}/history",
    access: gateways,
    summary: "A session's chat history",
    params: SessionParams,
    query: HistoryQuery,
    responses: { 200: answer("`chat.history`.", GatewayHistory) },
    failures: [404, 502]
  },
  sendGatewaySessionMessage: {
    method: "post",
    path: "/api/v1/gateways/{id}/sessions/{key}/message",
    access: gateways,
    summary: "Send a message to a session",
    description: "`chat.send` (not delivered to channels). With `Idempotency-Key`, a retry sends once; the same key for another message is 409.",
    params: SessionParams,
    headers: IdempotencyKeyHeader,
    body: SessionMessageBody,
    responses: { 202: answer("Accepted by the gateway.", MessageAccepted) },
    failures: [400, 404, 409, 502]
  },
  getGatewayCommands: getById("/api/v1/gateways/{id}/commands", "gateways", "Methods and events the gateway advertises", answer("From the gateway's `hello-ok`.", GatewayCommands), {
    failures: [404, 502]
  }),
  fleetSummary: adminGet("/api/v1/fleet/summary", "agents", "Fleet summary: counts and problems", answer("The fleet's counts and problems.", FleetSummaryView), {
    description:
      "Live agents counted by gateway, board and state from the read model, and the problems that need an operator: failed, retrying, offline (by reason), and busy for longer than `stuck_after_s`. Gateway reachability and pairing are not in the read model: see GET /api/v1/gateways/{id}/status.",
    query: FleetSummaryQuery
  })
})

