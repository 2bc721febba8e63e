import type { z } from "zod"
import type { GatewayView } from "../fleet/http/GatewayView.ts"
import type { AgentView } from "../agents/http/AgentView.ts"
import type { BoardView } from "../boards/http/BoardView.ts"
import type { ApiClient } from "./ApiClient.ts"
import { CommandFailed } from "./cliIo.ts"
import { isUuid } from "./format.ts"

/** Answer types, inferred from the OpenAPI response schemas (never written twice). */
export type Agent = z.infer<typeof AgentView>
export type Gateway = z.infer<typeof GatewayView>
export type Board = z.infer<typeof BoardView>

interface Page<T> {
  readonly items: ReadonlyArray<T>
  readonly total: number
}

/** Every agent (all pages of GET /api/v1/agents), optionally of one board or gateway. */
export const listAgents = async (api: ApiClient, filter: { readonly boardId?: string | undefined; readonly gatewayId?: string | undefined } = {}) => {
  const agents: Array<Agent> = []
  for (;;) {
    const query = new URLSearchParams({ limit: "200", offset: String(agents.length) })
    if (filter.boardId !== undefined) query.set("board_id", filter.boardId)
    if (filter.gatewayId !== undefined) query.set("gateway_id", filter.gatewayId)
    const page = await api.get<Page<Agent>>(`/api/v1/agents?${query}`)
    agents.push(...page.items)
    if (page.items.length === 0 || agents.length >= page.total) return agents
  }
}

/** Gateway and board names by id, to show where an agent is. */
export interface FleetNames {
  readonly gateways: ReadonlyMap<string, Gateway>
  readonly boards: ReadonlyMap<string, Board>
}

export const fleetNames = async (api: ApiClient): Promise<FleetNames> => {
  const [gateways, boards] = await Promise.all([api.get<Page<Gateway>>("/api/v1/gateways"), api.get<Page<Board>>("/api/v1/boards")])
  return { gateways: new Map(gateways.items.map((gateway) => [gateway.id, gateway])), boards: new Map(boards.items.map((board) => [board.id, board])) }
}

/** `gateway / board`, or `gateway (main)` for a gateway-main agent. */
export const placeOf = (agent: Pick<Agent, "gateway_id" | "board_id">, names: FleetNames): string => {
  const gateway = names.gateways.get(agent.gateway_id)?.name ?? agent.gateway_id.slice(0, 8)
  if (agent.board_id === null) return `${gateway} (main)`
  return `${gateway} / ${names.boards.get(agent.board_id)?.name ?? agent.board_id.slice(0, 8)}`
}

/** An id as given, or the one item whose name matches (case-insensitively); fails when none or several do. */
export const resolveByName = async <T extends { readonly id: string; readonly name: string }>(
  what: string,
  given: string,
  all: () => Promise<ReadonlyArray<T>>
): Promise<string> => {
  if (isUuid(given)) return given.toLowerCase()
  const matches = (await all()).filter((item) => item.name.toLowerCase() === given.toLowerCase())
  if (matches.length === 1) return matches[0]!.id
  if (matches.length === 0) throw new CommandFailed(`no ${what} named "${given}"`)
  throw new CommandFailed(`${matches.length} ${what}s are named "${given}"; use an id: ${matches.map((item) => item.id).join(", ")}`)
}
