import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import type { ClusterView as ClusterViewShape } from "../../cluster/clusterView.ts"
import type { Conforms, Expect } from "./conforms.ts"
import { adminOperation, answer } from "./operations.ts"

const address = z.string().meta({ description: "A runner's address, `host:port` (SWITCHYARD_RUNNER_HOST:SWITCHYARD_RUNNER_PORT); equal strings on every instance." })

export const ClusterView = z
  .object({
    self: address,
    runners: z.array(
      z.object({
        address,
        healthy: z.boolean().meta({ description: "false: the runner did not answer pings; its shards are assigned to the others." }),
        shards: z.int().meta({ description: "Shards assigned to it (of 300)." })
      })
    ),
    gateways: z.array(z.object({ gateway_id: z.uuid(), runner: address.nullable().meta({ description: "The runner that owns the gateway (its actors, its socket, its jobs); null while no runner is healthy." }) }))
  })
  .meta({ id: "ClusterView" })

export type ClusterViewConforms = [Expect<Conforms<ClusterViewShape, typeof ClusterView>>]

/** `/api/v1/cluster`: which runner owns which gateway (docs/operations.md "Cluster"). */
export const clusterPaths: ZodOpenApiPathsObject = {
  "/api/v1/cluster": {
    get: adminOperation("gateways", {
      operationId: "clusterView",
      summary: "Cluster: runners and gateway owners",
      description:
        "The answering instance's runner address, every runner registered on the database with its health and shard count, and the runner that owns each gateway. Every instance answers the same once the runners agree (within about a second of a change).",
      responses: { "200": answer("The cluster's runners and owners.", ClusterView) }
    })
  }
}
