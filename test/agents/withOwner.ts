import { Exit } from "effect"
import pg from "pg"
import { expect } from "vitest"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { freshOnlineFleet, LIVENESS_LIMITS } from "./onlineFleet.ts"

/** The agent policy of a `withOwner` service: an hour to offline, 30 s check-in, 5 attempts from 2 s. */
export const ownerPolicy = {
  offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS
} satisfies AgentPolicy

/** The typed error of a failed exit (a `Fail` cause), else `undefined`. */
export const failureOf = (exit: Exit.Exit<unknown, unknown>) => (Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined)

type Service = Awaited<ReturnType<typeof startInProcessService>>

/** What `withOwner` hands its body: the service, its agent system, a database client and the agent's id. */
export type Owner = { service: Service; system: Awaited<ReturnType<Service["agents"]>>; client: pg.Client; id: string }

/**
 * Runs `body` against a ready single-runner service (no liveness watchers) owning one online
 * agent `id`, with a database client beside it; stops the service and drops the database after.
 */
export const withOwner = async (body: (owner: Owner) => Promise<void>) => {
  const db = await freshOnlineFleet(1, ownerPolicy)
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  const service = await startInProcessService(db.url, { ...ownerPolicy, livenessWatchers: false })
  try {
    const system = await service.agents()
    await expect.poll(() => service.runtime.runPromise(system.readiness), { timeout: 60_000, interval: 50 }).toEqual({ state: "ready" })
    await body({ service, system, client, id: db.firstId })
  } finally {
    await service.stop()
    await client.end()
    await db.drop()
  }
}
