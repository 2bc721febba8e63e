import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { GatewayCreate, GatewayUpdate, IdParams } from "../contract.ts"
import { GatewayProbeBody, HistoryQuery, IdempotencyKey, SessionMessageBody, SessionParams } from "../gatewayQueryContract.ts"
import { ForceQueryDoc } from "./described.ts"
import {
  DeletingGateway,
  GatewayCommands,
  GatewayDeleted,
  GatewayHistory,
  GatewaySessionOne,
  GatewaySessions,
  GatewayStatus,
  MessageAccepted,
  RegisteredGateway,
  UpdatedGateway
} from "./gatewaySchemas.ts"
import { adminOperation, answer, json } from "./operations.ts"
import { GatewayLivenessView } from "../../liveness/livenessView.ts"
import { GatewayView, listOf } from "./viewSchemas.ts"

const SessionParamsDoc = SessionParams.extend({ key: SessionParams.shape.key.meta({ description: "The session key, URL-encoded (e.g. `agent%3Amc-gateway-…%3Amain`)." }) })

/** `/api/v1/gateways`: administration and runtime queries (admin). */
export const gatewayPaths: ZodOpenApiPathsObject = {
  "/api/v1/gateways": {
    post: adminOperation("gateways", {
      operationId: "createGateway",
      summary: "Register a gateway",
      description:
        "Checks the gateway first (reachable, else 502; protocol 4 with the operator scopes and a recent enough release, else 422; nothing is stored when refused), then provisions its main agent. A remote gateway that needs pairing answers 202 with `pairing.request_id`.",
      requestBody: json(GatewayCreate),
      responses: { "201": answer("Registered; `main_agent_id` is provisioning.", RegisteredGateway), "202": answer("Stored; waiting for the device pairing to be approved.", RegisteredGateway) },
      failures: [400, 409, 502]
    }),
    get: adminOperation("gateways", {
      operationId: "listGateways",
      summary: "List gateways",
      responses: { "200": answer("Every gateway.", listOf(GatewayView)) }
    })
  },
  "/api/v1/gateways/{id}": {
    get: adminOperation("gateways", {
      operationId: "getGateway",
      summary: "Read a gateway",
      requestParams: { path: IdParams },
      responses: { "200": answer("The gateway.", GatewayView) },
      failures: [404]
    }),
    patch: adminOperation("gateways", {
      operationId: "updateGateway",
      summary: "Update a gateway",
      description: "A new `url` or `token` is checked before it is stored (422/502 and nothing changes when refused); the main agent is then re-applied.",
      requestParams: { path: IdParams },
      requestBody: json(GatewayUpdate),
      responses: { "200": answer("The gateway.", UpdatedGateway), "202": answer("Waiting for the device pairing to be approved.", UpdatedGateway) },
      failures: [400, 404, 409, 502]
    }),
    delete: adminOperation("gateways", {
      operationId: "deleteGateway",
      summary: "Delete a gateway",
      description:
        "Removes every agent Switchyard created from the gateway (board agents first, the main agent last), then the gateway. Until then the answer is 202 and nothing new may be created on it. Asking again retries failed cleanups.",
      requestParams: { path: IdParams, query: ForceQueryDoc },
      responses: { "200": answer("Gone.", GatewayDeleted), "202": answer("Deleting; agents are still being removed.", DeletingGateway) },
      failures: [404]
    })
  },
  "/api/v1/gateways/{id}/check": {
    post: adminOperation("gateways", {
      operationId: "checkGateway",
      summary: "Re-check a gateway",
      description: "Re-runs the runtime check (after a pairing was approved) and ensures the main agent.",
      requestParams: { path: IdParams },
      responses: { "200": answer("Usable.", RegisteredGateway), "202": answer("Still waiting for the pairing approval.", RegisteredGateway) },
      failures: [404, 409, 502]
    })
  },
  "/api/v1/gateways/status": {
    post: adminOperation("gateways", {
      operationId: "probeGateway",
      summary: "Probe an unsaved gateway",
      description: "The token travels in the body, never the URL. An unreachable, too old or unpaired gateway is a 200 with `connected: false` and `error`.",
      requestBody: json(GatewayProbeBody),
      responses: { "200": answer("What the probe found.", GatewayStatus) },
      failures: [400]
    })
  },
  "/api/v1/gateways/{id}/status": {
    get: adminOperation("gateways", {
      operationId: "gatewayStatus",
      summary: "Probe a saved gateway",
      requestParams: { path: IdParams },
      responses: { "200": answer("What the probe found; `connected: false` with `error` when it failed.", GatewayStatus) },
      failures: [404]
    })
  },
  "/api/v1/gateways/{id}/liveness": {
    get: adminOperation("gateways", {
      operationId: "gatewayLiveness",
      summary: "What the gateway's liveness watcher knows",
      description: "Reachability, degraded signals, orphans and missing agents, and the heartbeat budget (docs/operations.md §8).",
      requestParams: { path: IdParams },
      responses: { "200": answer("The watcher's status.", GatewayLivenessView) },
      failures: [404]
    })
  },
  "/api/v1/gateways/{id}/sessions": {
    get: adminOperation("gateways", {
      operationId: "listGatewaySessions",
      summary: "List the gateway's sessions",
      description: "`sessions.list`, with the main agent's session ensured.",
      requestParams: { path: IdParams },
      responses: { "200": answer("The sessions.", GatewaySessions) },
      failures: [404, 502]
    })
  },
  "/api/v1/gateways/{id}/sessions/{key}": {
    get: adminOperation("gateways", {
      operationId: "getGatewaySession",
      summary: "Read one session",
      requestParams: { path: SessionParamsDoc },
      responses: { "200": answer("The session.", GatewaySessionOne) },
      failures: [404, 502]
    })
  },
  "/api/v1/gateways/{id}/sessions/{key}/history": {
    get: adminOperation("gateways", {
      operationId: "getGatewaySessionHistory",
      summary: "A session's chat history",
      requestParams: { path: SessionParamsDoc, query: HistoryQuery },
      responses: { "200": answer("`chat.history`.", GatewayHistory) },
      failures: [404, 502]
    })
  },
  "/api/v1/gateways/{id}/sessions/{key}/message": {
    post: adminOperation("gateways", {
      operationId: "sendGatewaySessionMessage",
      summary: "Send a message to a session",
      description: "`chat.send` (not delivered to channels). With `Idempotency-Key`, a retry sends once; the same key for another message is 409.",
      requestParams: {
        path: SessionParamsDoc,
        header: z.object({ "idempotency-key": IdempotencyKey.optional().meta({ description: "Makes a retry of this request send once." }) })
      },
      requestBody: json(SessionMessageBody),
      responses: { "202": answer("Accepted by the gateway.", MessageAccepted) },
      failures: [400, 404, 409, 502]
    })
  },
  "/api/v1/gateways/{id}/commands": {
    get: adminOperation("gateways", {
      operationId: "getGatewayCommands",
      summary: "Methods and events the gateway advertises",
      requestParams: { path: IdParams },
      responses: { "200": answer("From the gateway's `hello-ok`.", GatewayCommands) },
      failures: [404, 502]
    })
  }
}
