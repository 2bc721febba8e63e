import { Exit } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { freshOnlineFleet, LIVENESS_LIMITS } from "./onlineFleet.ts"

const policy = {
  offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS
} satisfies AgentPolicy

const failureOf = (exit: Exit.Exit<unknown, unknown>) => (Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined)

/**
 * The owner's write is refused as stale and reading the stored row to reload the actor fails
 * (here: a column the read needs is renamed away): callers get 503 owner-unavailable, not 404,
 * and the read is retried until it succeeds (docs/architecture.md §11, docs/operations.md §7.3).
 */
describe("reloading an actor after a stale refusal", () => {
  it("answers 503 while the reload read fails, retries it, and restores the actor once it succeeds", async () => {
    const db = await freshOnlineFleet(1, policy)
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const service = await startInProcessService(db.url, { ...policy, livenessWatchers: false })
    try {
      const system = await service.agents()
      await expect.poll(() => service.runtime.runPromise(system.readiness), { timeout: 60_000, interval: 50 }).toEqual({ state: "ready" })
      const id = db.firstId
      // The reload reads `machine_version`; the snapshot write does not.
      await client.query("alter table agents rename column machine_version to machine_version_away")
      await client.query(`update agents set version = 2, snapshot = jsonb_set(snapshot, '{context,spec,name}', '"Written elsewhere"') where id = $1`, [id])
      const refused = await service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(failureOf(refused)).toMatchObject({ _tag: "AgentsRestoring", reason: "owner-unavailable" })
      // The actor is gone until the read succeeds: still 503, never AgentNotFound.
      await expect.poll(() => system.snapshot(id), { timeout: 10_000 }).toBeUndefined()
      const meanwhile = await service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(failureOf(meanwhile)).toMatchObject({ _tag: "AgentsRestoring", reason: "owner-unavailable" })
      await client.query("alter table agents rename column machine_version_away to machine_version")
      await expect.poll(() => system.snapshot(id)?.context.spec.name, { timeout: 20_000 }).toBe("Written elsewhere")
      const answered = await service.runtime.runPromise(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(answered.context.spec.name).toBe("Written elsewhere")
    } finally {
      await service.stop()
      await client.end()
      await db.drop()
    }
  })
})
