import { expect } from "vitest"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { createTestDatabase } from "./database.ts"
import { startInProcessService, type InProcessService } from "./inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator, type SimulatorOptions } from "./simulator/GatewaySimulator.ts"

/** One gateway on the simulator, its main agent provisioned, and one board, behind an in-process service. */
export interface SimulatedStack {
  readonly simulator: GatewaySimulator
  readonly service: InProcessService
  readonly gatewayId: string
  readonly boardId: string
}

/**
 * A fresh database, gateway simulator and in-process service (check-in and offline deadlines
 * five minutes away unless `config` says otherwise) with one gateway and one board named
 * `boardName`; everything is torn down after `body`. The gateway-main agent has provisioned
 * before `body` runs, so faults a test injects reach only its own agents.
 */
export const withSimulatedStack = async <A>(
  options: { readonly simulator?: SimulatorOptions; readonly config?: Partial<AppConfigShape>; readonly boardName: string },
  body: (stack: SimulatedStack) => Promise<A>
): Promise<A> => {
  const db = await createTestDatabase()
  const simulator = await startGatewaySimulator(options.simulator)
  let service: InProcessService | undefined
  try {
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, ...options.config })
    const api = service.api
    const gateway = await api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201)
    await expect
      .poll(async () => (await api("GET", `/api/v1/agents/${gateway.body.main_agent_id}`)).body.state, { timeout: 10_000, interval: 20 })
      .toBe("provisioning.awaiting")
    const board = await api("POST", "/api/v1/boards", { name: options.boardName, gateway_id: gateway.body.id })
    expect(board.status).toBe(201)
    return await body({ simulator, service, gatewayId: gateway.body.id, boardId: board.body.id })
  } finally {
    await service?.stop()
    await simulator.stop()
    await db.drop()
  }
}
