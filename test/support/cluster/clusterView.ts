import type { ServiceProcess } from "../serviceProcess.ts"

/** `GET /api/v1/cluster` (docs/operations.md "Cluster"): who runs, who owns which gateway. */
export interface ClusterView {
  /** The answering instance's runner address, `host:port`. */
  readonly self: string
  readonly runners: ReadonlyArray<{ readonly address: string; readonly healthy: boolean; readonly shards: ReadonlyArray<number> | number }>
  readonly gateways: ReadonlyArray<{ readonly gateway_id: string; readonly runner: string | null }>
}

/** Reads one instance's view of the cluster; throws on anything but 200. */
export const readCluster = async (service: ServiceProcess): Promise<ClusterView> => {
  const answer = await service.api("GET", "/api/v1/cluster")
  if (answer.status !== 200) throw new Error(`GET /api/v1/cluster answered ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body as ClusterView
}

/** The runner address owning `gatewayId` in `view`, if any. */
export const ownerIn = (view: ClusterView, gatewayId: string): string | undefined =>
  view.gateways.find((gateway) => gateway.gateway_id === gatewayId)?.runner ?? undefined
