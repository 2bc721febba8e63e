import { Exit } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { freshOnlineFleet, LIVENESS_LIMITS } from "./onlineFleet.ts"

const policy = {
  offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS
} satisfies AgentPolicy

/**
 * The owner of an agent meets a version another runner stored (a late write of the gateway's
 * former owner): the event whose snapshot could not be saved is refused (503), the actor is
 * reloaded from the stored snapshot, and later events are saved on top of it
 * (docs/architecture.md §11).
 */
describe("owner meets a newer stored version", () => {
  it("refuses the event that was not stored, reloads the actor from the database, and goes on from there", async () => {
    const db = await freshOnlineFleet(1, policy)
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const service = await startInProcessService(db.url, { ...policy, livenessWatchers: false })
    try {
      const system = await service.agents()
      await expect.poll(() => service.runtime.runPromise(system.readiness), { timeout: 60_000, interval: 50 }).toEqual({ state: "ready" })
      const id = db.firstId
      expect(system.snapshot(id)?.value).toBe("online")
      // Another runner stored version 2 (its name is the mark) before this owner's version 2.
      await client.query(`update agents set version = 2, snapshot = jsonb_set(snapshot, '{context,spec,name}', '"Written elsewhere"') where id = $1`, [id])
      const refused = await service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(Exit.isFailure(refused) && refused.cause._tag === "Fail" ? refused.cause.error : undefined).toMatchObject({ _tag: "AgentsRestoring", reason: "owner-unavailable" })
      await expect.poll(() => system.snapshot(id)?.context.spec.name, { timeout: 10_000 }).toBe("Written elsewhere")
      const answered = await service.runtime.runPromise(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(answered.context.spec.name).toBe("Written elsewhere")
      const row = (await client.query<{ version: string; name: string }>("select version::text, snapshot->'context'->'spec'->>'name' as name from agents where id = $1", [id])).rows[0]
      expect(row).toEqual({ version: "3", name: "Written elsewhere" })
    } finally {
      await service.stop()
      await client.end()
      await db.drop()
    }
  })
})
