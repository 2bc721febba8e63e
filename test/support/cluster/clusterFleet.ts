import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { readAuthToken } from "../../../src/templates/readAuthToken.ts"
import type { ServiceProcess } from "../serviceProcess.ts"
import type { GatewaySimulator } from "../simulator/GatewaySimulator.ts"

const HEARTBEAT = "/api/v1/agent/heartbeat"

/** An agent as `POST /api/v1/agents` answers it (the fields the cluster tests read). */
export interface CreatedAgent {
  readonly id: string
  readonly gateway_agent_id: string
  readonly gateway_id: string
  readonly name: string
  readonly state: string
}

/** Registers `gateway` (simulator or real) through `service` with one board; returns both ids. */
export const registerGateway = async (service: ServiceProcess, gateway: { url: string; token: string }, name: string) => {
  const created = await service.api("POST", "/api/v1/gateways", {
    name,
    url: gateway.url,
    token: gateway.token,
    workspace_root: mkdtempSync(path.join(tmpdir(), `sy-${name}-`))
  })
  if (created.status !== 201) throw new Error(`gateway ${name}: ${created.status} ${JSON.stringify(created.body)}`)
  const board = await service.api("POST", "/api/v1/boards", { name, gateway_id: created.body.id })
  if (board.status !== 201) throw new Error(`board ${name}: ${board.status} ${JSON.stringify(board.body)}`)
  return { gatewayId: String(created.body.id), boardId: String(board.body.id) }
}

/** Creates an agent through `service` and waits (≤ 60 s) until it is woken (`provisioning.awaiting`). */
export const createAgent = async (service: ServiceProcess, boardId: string, name: string): Promise<CreatedAgent> => {
  const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=60000", { name, board_id: boardId })
  if (created.status !== 201) throw new Error(`agent ${name}: ${created.status} ${JSON.stringify(created.body)}`)
  return created.body as CreatedAgent
}

/** The agent's heartbeat token, read from its AGENTS.md on the simulator (as the running agent would). */
export const simulatorToken = (simulator: GatewaySimulator, gatewayAgentId: string): string => {
  const token = readAuthToken(simulator.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")
  if (token === undefined) throw new Error(`no token in AGENTS.md of ${gatewayAgentId}`)
  return token
}

/**
 * One heartbeat answer: status, `Retry-After`, parsed body (null when not JSON) and its latency,
 * ms. Status 0 means no answer: `failure` says why (`TimeoutError` for a hang, else the fetch error).
 */
export interface HeartbeatAnswer {
  readonly status: number
  readonly failure?: string
  readonly retryAfter: string | null
  readonly body: any
  readonly ms: number
}

/** Sends `POST /api/v1/agent/heartbeat` with `token` to `url`, bounded by `timeoutMs` (default 15 s; a hang shows as status 0). */
export const heartbeat = async (url: string, token: string, timeoutMs = 15_000): Promise<HeartbeatAnswer> => {
  const started = Date.now()
  try {
    const response = await fetch(`${url}${HEARTBEAT}`, {
      method: "POST",
      headers: { "x-agent-token": token, "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(timeoutMs)
    })
    const text = await response.text()
    let body: unknown = null
    try {
      body = text === "" ? null : JSON.parse(text)
    } catch {
      body = text
    }
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body, ms: Date.now() - started }
  } catch (error) {
    const failure = error instanceof Error ? (error.name === "TimeoutError" ? "TimeoutError" : String(error.cause ?? error.message)) : String(error)
    return { status: 0, failure, retryAfter: null, body: null, ms: Date.now() - started }
  }
}
