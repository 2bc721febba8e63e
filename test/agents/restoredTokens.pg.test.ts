import pg from "pg"
import { describe, expect, it } from "vitest"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { freshOnlineFleet, LIVENESS_LIMITS } from "./onlineFleet.ts"

const policy = {
  offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS
} satisfies AgentPolicy

// docs/operations.md §6.10: a restored actor's token is known from its restore, so the first
// heartbeat after a restart is checked against the actor, with no lookup in the token index.
describe("tokens of restored agents", () => {
  it("answers a restored agent's first heartbeat from its actor: the token index is not read", async () => {
    const db = await freshOnlineFleet(20, policy)
    const service = await startInProcessService(db.url, policy)
    try {
      const system = await service.agents()
      await expect.poll(() => system.snapshot(db.firstId)?.value, { timeout: 30_000 }).toBe("online")
      // The index no longer names this token: only the restored actor can answer for it.
      const client = new pg.Client({ connectionString: db.url })
      await client.connect()
      await client.query("update agents set token_hash = 'not-the-token' where id = $1", [db.firstId])
      await client.end()
      const response = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": db.token }, body: "{}" })
      expect(response.status).toBe(200)
      expect(((await response.json()) as { id: string }).id).toBe(db.firstId)
      const wrong = await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": `${db.token}-wrong` }, body: "{}" })
      expect(wrong.status).toBe(401)
    } finally {
      await service.stop()
      await db.drop()
    }
  })
})
