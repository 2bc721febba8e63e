import { IdParams } from "../../http/contract.ts"
import { answer, endpoints } from "../../http/Endpoint.ts"
import { GatewayLivenessView } from "./LivenessView.ts"

/** `/api/v1/gateways/{id}/liveness` (admin): what the gateway's liveness watcher knows (docs/operations.md §8). */
export const livenessApi = endpoints({
  gatewayLiveness: {
    method: "get",
    path: "/api/v1/gateways/{id}/liveness",
    access: { kind: "admin", resource: "gateways" },
    summary: "What the gateway's liveness watcher knows",
    description: "Reachability, degraded signals, orphans and missing agents, and the heartbeat budget (docs/operations.md §8).",
    params: IdParams,
    responses: { 200: answer("The watcher's status.", GatewayLivenessView) },
    failures: [404, 503]
  }
})
