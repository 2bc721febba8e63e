import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** Agent timings for these tests: no check-in or offline deadline fires, retries come fast. */
const CONFIG = { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50, maxAttempts: 5 }

export interface MovingGateway {
  /** The gateway's address before the PATCH. */
  readonly old: GatewaySimulator
  /** The address a PATCH moves it to (same token). */
  readonly moved: GatewaySimulator
  /** In-process instances on one fresh database. */
  readonly services: ReadonlyArray<InProcessService>
  readonly stop: () => Promise<void>
}

/**
 * A gateway about to move (docs/architecture.md §9.1 "Update"): two simulators and `count`
 * services on a fresh database. `oldOptions` configures the old address's simulator.
 */
export const startMovingGateway = async (oldOptions: Parameters<typeof startGatewaySimulator>[0] = {}, count = 1): Promise<MovingGateway> => {
  const db = await createTestDatabase()
  const old = await startGatewaySimulator(oldOptions)
  const moved = await startGatewaySimulator({ token: old.token })
  const services = await Promise.all(Array.from({ length: count }, () => startInProcessService(db.url, CONFIG)))
  return {
    old,
    moved,
    services,
    stop: async () => {
      for (const service of services) await service.stop()
      await old.stop()
      await moved.stop()
      await db.drop()
    }
  }
}

/** Whether a recorded gateway call names the gateway agent. */
export const mentioning =
  (gatewayAgentId: string) =>
  (call: { readonly params: unknown }): boolean =>
    JSON.stringify(call.params ?? {}).includes(gatewayAgentId)
