import { ApiRequestFailed, type ApiClient } from "../ApiClient.ts"
import { println, type CliIo } from "../cliIo.ts"
import { fleetNames, listAgents, placeOf, resolveByName, type Agent } from "../fleet.ts"
import { ago, paintState } from "../format.ts"
import { renderTable } from "../table.ts"

interface Transition {
  readonly from: string | null
  readonly to: string
  readonly event: string
  readonly error_tag: string | null
  readonly at: string
}

interface Activity {
  readonly event_type: string
  readonly message: string
  readonly created_at: string
}

const SHOWN = 10

const fields = (agent: Agent, place: string, now: number): Array<[string, string]> => {
  const lifecycle = agent.lifecycle
  return [
    ["state", agent.state],
    ["role", `${agent.role} on ${place}`],
    ["last seen", agent.last_seen_at === null ? "never" : `${agent.last_seen_at} (${ago(agent.last_seen_at, now)})`],
    ["last error", agent.last_error === null ? "-" : `${agent.last_error.step}: ${agent.last_error.tag}: ${agent.last_error.message}${agent.last_error.transient ? " (transient)" : ""}`],
    ["offline reason", agent.offline_reason ?? "-"],
    ...(lifecycle === undefined
      ? []
      : ([
          ["generation", String(lifecycle.generation)],
          ["attempts", `${lifecycle.attempts} (wake attempts ${lifecycle.wake_attempts})`],
          ["next deadline", lifecycle.deadline_at ?? "-"],
          ["reported status", lifecycle.reported_status ?? "-"],
          ["token source", lifecycle.token_source ?? "-"]
        ] as Array<[string, string]>)),
    ["heartbeat", `every ${agent.heartbeat_config.every}, target ${agent.heartbeat_config.target}`],
    ["gateway agent", agent.gateway_agent_id],
    ["session", agent.session_key],
    ["version", String(agent.version)],
    ["created", agent.created_at],
    ["updated", agent.updated_at]
  ]
}

/**
 * The last transitions (GET /agents/{id}/transitions); a server without that route answers 404
 * for an agent that exists, and then the lifecycle log (GET /agents/{id}/activity) is shown.
 */
const history = async (api: ApiClient, id: string): Promise<string> => {
  try {
    const page = await api.get<{ items: ReadonlyArray<Transition> }>(`/api/v1/agents/${id}/transitions?limit=${SHOWN}`)
    if (page.items.length === 0) return "Last transitions: none recorded"
    return `Last transitions (newest first)\n${renderTable(page.items, [
      { header: "AT", value: (row) => row.at },
      { header: "FROM", value: (row) => row.from ?? "(created)" },
      { header: "TO", value: (row) => row.to },
      { header: "EVENT", value: (row) => row.event },
      { header: "ERROR", value: (row) => row.error_tag ?? "" }
    ])}`
  } catch (error) {
    if (!(error instanceof ApiRequestFailed && error.status === 404)) throw error
  }
  const log = await api.get<{ items: ReadonlyArray<Activity> }>(`/api/v1/agents/${id}/activity?limit=${SHOWN}`)
  if (log.items.length === 0) return "Activity: none recorded"
  return `Activity (newest first; this server has no transition history)\n${renderTable(log.items, [
    { header: "AT", value: (row) => row.created_at },
    { header: "EVENT", value: (row) => row.event_type },
    { header: "MESSAGE", value: (row) => row.message, max: 100 }
  ])}`
}

/** `switchyard agents inspect <id|name>`: where the agent is and why, then its last transitions. */
export const agentsInspect = async (io: CliIo, api: ApiClient, given: string, options: { readonly json: boolean }): Promise<number> => {
  const id = await resolveByName("agent", given, () => listAgents(api))
  const agent = await api.get<Agent>(`/api/v1/agents/${id}`)
  if (options.json) {
    println(io.stdout, JSON.stringify(agent, null, 2))
    return 0
  }
  const place = placeOf(agent, await fleetNames(api))
  const rows = fields(agent, place, Date.now())
  const label = Math.max(...rows.map(([name]) => name.length))
  println(io.stdout, `${agent.name}  ${agent.id}`)
  for (const [name, value] of rows) println(io.stdout, `  ${name.padEnd(label)}  ${name === "state" ? paintState(io, value) : value}`)
  println(io.stdout)
  println(io.stdout, await history(api, agent.id))
  return 0
}
