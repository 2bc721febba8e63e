import type { z } from "zod"
import type { AgentChangeEvent } from "../../streams/http/TransitionView.ts"
import { ApiRequestFailed, type ApiClient } from "../ApiClient.ts"
import { pause, println, type CliIo } from "../cliIo.ts"
import { fleetNames, listAgents, resolveByName, type Agent } from "../fleet.ts"
import { clock, paintState } from "../format.ts"

type Change = z.infer<typeof AgentChangeEvent>

export interface AgentsWatchOptions {
  readonly board?: string | undefined
  readonly gateway?: string | undefined
  /** Poll instead of following the stream (a server without one is detected by itself). */
  readonly poll: boolean
  /** One JSON object per change instead of a line of text. */
  readonly json: boolean
}

const POLL_EVERY_MS = 2_000
const RECONNECT_AFTER_MS = 2_000

interface Line {
  readonly at: string
  readonly name: string
  readonly from: string | null
  readonly to: string
  readonly event?: string | undefined
  readonly error?: string | null | undefined
}

const print = (io: CliIo, line: Line) =>
  println(
    io.stdout,
    [clock(line.at), line.name.padEnd(20), `${line.from === null ? "(new)" : paintState(io, line.from)} → ${paintState(io, line.to)}`, line.event === undefined ? "" : `(${line.event})`, line.error ?? ""]
      .filter((part) => part !== "")
      .join("  ")
  )

/** Follows GET /api/v1/agents/stream, resuming with Last-Event-ID; `false` when the server has no stream. */
const followStream = async (io: CliIo, api: ApiClient, query: string, json: boolean): Promise<boolean> => {
  let lastEventId: string | undefined
  for (let attempt = 1; !io.signal.aborted; attempt++) {
    try {
      const resumed = lastEventId === undefined ? "" : `, resumed after change ${lastEventId} (nothing missed)`
      const onOpen = () => println(io.stderr, attempt === 1 ? "connected; changes follow" : `reconnected${resumed}`)
      for await (const event of api.events(`/api/v1/agents/stream${query}`, { lastEventId, onOpen })) {
        if (event.event !== "agent") continue
        if (event.id !== undefined) lastEventId = event.id
        const change = JSON.parse(event.data) as Change
        if (json) println(io.stdout, event.data)
        else print(io, { at: change.transition.at, name: change.agent.name, from: change.transition.from, to: change.transition.to, event: change.transition.event, error: change.transition.error_tag })
      }
      if (!io.signal.aborted) println(io.stderr, "the server closed the stream; reconnecting")
    } catch (error) {
      if (io.signal.aborted) break
      if (attempt === 1 && error instanceof ApiRequestFailed && error.status === 404) return false
      println(io.stderr, `stream lost (${(error as Error).message}); reconnecting in ${RECONNECT_AFTER_MS / 1_000} s`)
    }
    await pause(RECONNECT_AFTER_MS, io.signal)
  }
  return true
}

/** Polls GET /api/v1/agents and prints what changed between two reads. */
const poll = async (io: CliIo, api: ApiClient, filter: { boardId?: string | undefined; gatewayId?: string | undefined }, first: ReadonlyArray<Agent>, json: boolean) => {
  let known = new Map(first.map((agent) => [agent.id, agent]))
  while (!io.signal.aborted) {
    await pause(POLL_EVERY_MS, io.signal)
    if (io.signal.aborted) break
    let agents: Array<Agent>
    try {
      agents = await listAgents(api, filter)
    } catch (error) {
      if (io.signal.aborted) break
      println(io.stderr, `polling failed (${(error as Error).message}); trying again`)
      continue
    }
    const at = new Date().toISOString()
    const lines: Array<Line> = []
    for (const agent of agents) {
      const before = known.get(agent.id)
      if (before === undefined || before.state !== agent.state) lines.push({ at, name: agent.name, from: before?.state ?? null, to: agent.state })
    }
    const current = new Map(agents.map((agent) => [agent.id, agent]))
    for (const [id, agent] of known) if (!current.has(id)) lines.push({ at, name: agent.name, from: agent.state, to: "deleted" })
    for (const line of lines) json ? println(io.stdout, JSON.stringify(line)) : print(io, line)
    known = current
  }
}

/** `switchyard agents watch`: every state change as it happens, until Ctrl-C. */
export const agentsWatch = async (io: CliIo, api: ApiClient, options: AgentsWatchOptions): Promise<number> => {
  const names = await fleetNames(api)
  const boardId = options.board === undefined ? undefined : await resolveByName("board", options.board, async () => [...names.boards.values()])
  const gatewayId = options.gateway === undefined ? undefined : await resolveByName("gateway", options.gateway, async () => [...names.gateways.values()])
  const query = new URLSearchParams()
  if (boardId !== undefined) query.set("board_id", boardId)
  if (gatewayId !== undefined) query.set("gateway_id", gatewayId)
  const agents = await listAgents(api, { boardId, gatewayId })
  const suffix = query.size === 0 ? "" : `?${query}`
  if (!options.poll) {
    println(io.stderr, `watching ${agents.length} agents live (GET /api/v1/agents/stream); Ctrl-C to stop`)
    if (await followStream(io, api, suffix, options.json)) return 0
    println(io.stderr, `this server has no agent stream (GET /api/v1/agents/stream answered 404); polling GET /api/v1/agents every ${POLL_EVERY_MS / 1_000} s instead`)
  } else {
    println(io.stderr, `watching ${agents.length} agents by polling GET /api/v1/agents every ${POLL_EVERY_MS / 1_000} s; Ctrl-C to stop`)
  }
  await poll(io, api, { boardId, gatewayId }, agents, options.json)
  return 0
}
