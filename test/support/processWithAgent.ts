import { expect } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { startService, type ServiceProcess } from "./serviceProcess.ts"
import type { GatewaySimulator } from "./simulator/GatewaySimulator.ts"

/**
 * The real service as a process (`env`), with the simulator registered as a gateway, one board,
 * and one agent named `name` (body `extra`: e.g. its heartbeat config) that was woken and curled
 * back once, so it is `online`, as in the field. A failure on the way kills the process.
 */
export const processWithOnlineAgent = async (
  env: Record<string, string>,
  simulator: GatewaySimulator,
  name: string,
  extra: Record<string, unknown> = {}
): Promise<{ service: ServiceProcess; agent: { id: string; gateway_agent_id: string } }> => {
  const service = await startService(env)
  try {
    const gateway = await service.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201)
    const board = await service.api("POST", "/api/v1/boards", { name: `${name} board`, gateway_id: gateway.body.id })
    expect(board.status).toBe(201)
    const created = await service.api("POST", "/api/v1/agents", { name, board_id: board.body.id, ...extra })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const agent = created.body as { id: string; gateway_agent_id: string }
    const state = async () => (await service.api("GET", `/api/v1/agents/${agent.id}`)).body
    await expect.poll(async () => (await state()).state, { timeout: 30_000, interval: 50 }).toBe("provisioning.awaiting")
    const token = readAuthToken(simulator.state.files.get(agent.gateway_agent_id)?.get("AGENTS.md") ?? "")
    const beat = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token ?? "" } })
    expect(beat.status).toBe(200)
    await expect.poll(async () => (await state()).status, { timeout: 30_000, interval: 50 }).toBe("online")
    return { service, agent }
  } catch (error) {
    // A failed set-up leaves no process behind.
    await service.kill("SIGKILL")
    throw error
  }
}
