import type { ApiClient } from "../ApiClient.ts"
import { println, type CliIo } from "../cliIo.ts"
import { fleetNames, listAgents, placeOf, resolveByName, type Agent } from "../fleet.ts"
import { ago, paintState } from "../format.ts"
import { renderTable } from "../table.ts"

export interface AgentsLsOptions {
  readonly board?: string | undefined
  readonly gateway?: string | undefined
  readonly json: boolean
}

/** `switchyard agents ls`: every agent with its state, when it was last seen and where it runs. */
export const agentsLs = async (io: CliIo, api: ApiClient, options: AgentsLsOptions): Promise<number> => {
  const names = await fleetNames(api)
  const boardId = options.board === undefined ? undefined : await resolveByName("board", options.board, async () => [...names.boards.values()])
  const gatewayId = options.gateway === undefined ? undefined : await resolveByName("gateway", options.gateway, async () => [...names.gateways.values()])
  const agents = await listAgents(api, { boardId, gatewayId })
  if (options.json) {
    println(io.stdout, JSON.stringify(agents, null, 2))
    return 0
  }
  if (agents.length === 0) {
    println(io.stdout, "no agents")
    return 0
  }
  const now = Date.now()
  println(
    io.stdout,
    renderTable<Agent>(agents, [
      { header: "ID", value: (agent) => agent.id },
      { header: "NAME", value: (agent) => agent.name, max: 32 },
      { header: "STATE", value: (agent) => paintState(io, agent.state) },
      { header: "LAST SEEN", value: (agent) => ago(agent.last_seen_at, now) },
      { header: "GATEWAY/BOARD", value: (agent) => placeOf(agent, names) }
    ])
  )
  return 0
}
