import { createAgent, heartbeat, registerGateway, simulatorToken, type CreatedAgent } from "./clusterFleet.ts"
import { ownerIn, readCluster } from "./clusterView.ts"
import { poll } from "./poll.ts"
import type { ClusterNode, TestCluster } from "./startCluster.ts"
import type { GatewaySimulator } from "../simulator/GatewaySimulator.ts"

/** A gateway with online agents in a running cluster, and which node owns it. */
export interface OwnedFleet {
  readonly gatewayId: string
  readonly boardId: string
  /** Each agent with its heartbeat token. */
  readonly agents: ReadonlyArray<CreatedAgent & { readonly token: string }>
  readonly owner: ClusterNode
  /** A node that does not own the gateway (the first one). */
  readonly other: ClusterNode
}

/**
 * Registers `simulator` through node 0, creates `count` agents, brings each online with one
 * heartbeat, and finds the gateway's owner in `GET /api/v1/cluster` (waits ≤ 30 s for one).
 */
export const ownedFleet = async (cluster: TestCluster, simulator: GatewaySimulator, count: number): Promise<OwnedFleet> => {
  const first = cluster.service(0)
  const { gatewayId, boardId } = await registerGateway(first, simulator, "owned")
  const agents: Array<CreatedAgent & { token: string }> = []
  for (let i = 0; i < count; i++) {
    const agent = await createAgent(first, boardId, `agent-${i}`)
    const token = simulatorToken(simulator, agent.gateway_agent_id)
    const answer = await heartbeat(first.url, token)
    if (answer.status !== 200) throw new Error(`first heartbeat of ${agent.id}: ${answer.status} ${JSON.stringify(answer.body)}`)
    agents.push({ ...agent, token })
  }
  const found = await poll(async () => ownerIn(await readCluster(first), gatewayId), (runner) => runner !== undefined && cluster.byRunner(runner) !== undefined, 30_000)
  const owner = found.value === undefined ? undefined : cluster.byRunner(found.value)
  if (owner === undefined) throw new Error(`no owner of ${gatewayId} in GET /api/v1/cluster: ${found.value}`)
  const other = cluster.nodes.find((node) => node !== owner)
  if (other === undefined) throw new Error("a cluster of one has no other node")
  return { gatewayId, boardId, agents, owner, other }
}
