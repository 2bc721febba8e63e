import { answer, endpoints } from "../../http/Endpoint.ts"
import { ClusterView } from "./ClusterView.ts"

/** `/api/v1/cluster` (admin): which runner owns which gateway (docs/operations.md "Cluster", docs/architecture.md §11). */
export const clusterApi = endpoints({
  clusterView: {
    method: "get",
    path: "/api/v1/cluster",
    access: { kind: "admin", resource: "gateways" },
    summary: "Cluster: runners and gateway owners",
    description:
      "The answering instance's runner address, every runner registered on the database with its health and shard count, and the runner that owns each gateway. Every instance answers the same once the runners agree (within about a second of a change).",
    responses: { 200: answer("The cluster's runners and owners.", ClusterView) }
  }
})
