import { answer, endpoints, getById } from "../../http/Endpoint.ts"
import { GatewayLivenessView } from "./LivenessView.ts"

/** `/api/v1/gateways/{id}/liveness` (admin): what the gateway's liveness watcher knows (docs/operations.md §8). */
export const livenessApi = endpoints({
  gatewayLiveness: getById("/api/v1/gateways/{id}/liveness", "gateways", "What the gateway's liveness watcher knows", answer("The watcher's status.", GatewayLivenessView), {
    description: "Reachability, degraded signals, orphans and missing agents, and the heartbeat budget (docs/operations.md §8).",
    failures: [404, 503]
  })
})
