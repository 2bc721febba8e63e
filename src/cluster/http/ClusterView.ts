import { z } from "zod"

const address = z.string().meta({ description: "A runner's address, `host:port` (SWITCHYARD_RUNNER_HOST:SWITCHYARD_RUNNER_PORT); equal strings on every instance." })

/** `GET /api/v1/cluster`: this runner, every registered runner and each gateway's owner; `clusterView` (src/cluster/clusterView.ts) answers it as is. */
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
