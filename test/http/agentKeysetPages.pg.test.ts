import { describe, expect, it } from "vitest"
import { freshOnlineFleet, LIVENESS_LIMITS } from "../agents/onlineFleet.ts"
import { startInProcessService } from "../support/inProcessService.ts"

const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS }

describe("GET /api/v1/agents keyset pages", () => {
  it("`after` pages through every agent once, oldest first, as {items, limit, next}, ending with next null", async () => {
    const fleet = await freshOnlineFleet(450, policy)
    const service = await startInProcessService(fleet.url, policy)
    try {
      const seen: Array<{ id: string; created_at: string }> = []
      let after = ""
      for (let page = 0; page < 10; page++) {
        const answer = await service.api("GET", `/api/v1/agents?board_id=${fleet.boardId}&limit=200&after=${after}`)
        expect(answer.status).toBe(200)
        expect(Object.keys(answer.body).sort()).toEqual(["items", "limit", "next"])
        seen.push(...answer.body.items)
        if (answer.body.next === null) break
        after = answer.body.next
      }
      expect(seen).toHaveLength(450)
      expect(new Set(seen.map((agent) => agent.id)).size).toBe(450)
      const byOffset = await service.api("GET", `/api/v1/agents?board_id=${fleet.boardId}&limit=200&offset=400`)
      expect(byOffset.body).toMatchObject({ total: 450, offset: 400 })
      expect(seen.slice(400).map((agent) => agent.id)).toEqual(byOffset.body.items.map((agent: { id: string }) => agent.id))
      expect((await service.api("GET", "/api/v1/agents?after=not-a-cursor")).status).toBe(422)
    } finally {
      await service.stop()
      await fleet.drop()
    }
  })
})
