import { afterAll, beforeAll } from "vitest"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { createTestDatabase } from "./database.ts"
import { startInProcessService, type InProcessService } from "./inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "./simulator/GatewaySimulator.ts"

/** The suite's gateway simulator and in-process service; reading either before `beforeAll` ran throws. */
export interface SimulatedService {
  readonly simulator: GatewaySimulator
  readonly service: InProcessService
}

/**
 * Registers, in the calling suite (or file), a `beforeAll` that starts a fresh database, a gateway
 * simulator and an in-process service with config `overrides`, and an `afterAll` that stops them
 * and drops the database. Nothing is registered on the simulator: tests add gateways themselves.
 */
export const useSimulatedService = (overrides: Partial<AppConfigShape> = {}): SimulatedService => {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined
  let simulator: GatewaySimulator | undefined
  let service: InProcessService | undefined

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, overrides)
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  const started = <A>(value: A | undefined, name: string): A => {
    if (value === undefined) throw new Error(`useSimulatedService: the ${name} is read before beforeAll started it`)
    return value
  }
  return {
    get simulator() {
      return started(simulator, "simulator")
    },
    get service() {
      return started(service, "service")
    }
  }
}
