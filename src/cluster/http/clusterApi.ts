import { adminGet, answer, endpoints } from "../../http/Endpoint.ts"
import { ClusterView } from "./ClusterView.ts"

/** `/api/v1/cluster` (admin): which runner owns which gateway (docs/operations.md "Cluster", docs/architecture.md §11). */
export const clusterApi = endpoints({
  clusterView: adminGet("/api/v1/cluster", "gateways", "Cluster: runners and gateway owners", answer("The cluster's runners and owners.", ClusterView), {
    description:
      "The answering instance's runner address, every runner registered on the database with its health and shard count, and the runner that owns each gateway. Every instance answers the same once the runners agree (within about a second of a change)."
  })
})
