import { Effect } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { AgentSystem } from "../../src/agents/AgentSystem.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { freshOnlineFleet } from "./onlineFleet.ts"

const policy = {
  offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000,
  offlineFactor: 1.5, offlineGraceMs: 60_000, gatewayLostAfterMs: 90_000, maxFailedRuns: 3
} satisfies AgentPolicy
const FLEET = 300

/** A fresh database holding a gateway, a board and `FLEET` online agents at version 1. */
const freshFleet = () => freshOnlineFleet(FLEET, policy)

const versions = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<{ id: string; version: string }>("select id, version from agents where deleted_at is null order by id")).rows
  } finally {
    await client.end()
  }
}

/** Restores the fleet in a service, waits until every agent's last snapshot is saved, and stops it. */
const restoreFleet = async (url: string, servicePolicy: typeof policy) => {
  const service = await startInProcessService(url, servicePolicy)
  try {
    const system = await service.agents()
    await expect.poll(() => service.runtime.runPromise(system.readiness), { timeout: 60_000, interval: 50 }).toEqual({ state: "ready" })
    const ids = (await versions(url)).map((row) => row.id)
    expect(ids.every((id) => system.snapshot(id)?.value === "online")).toBe(true)
    // Completes once whatever each actor offered on restore (if anything) is in the database.
    await service.runtime.runPromise(Effect.forEach(ids, (id) => system.waitFor(id, () => true, 30_000), { discard: true, concurrency: 50 }))
  } finally {
    await service.stop()
  }
}

describe("restore without rewriting", () => {
  it(`restoring ${FLEET} unchanged agents writes none of them: every version stays`, async () => {
    const db = await freshFleet()
    try {
      const before = await versions(db.url)
      expect(before).toHaveLength(FLEET)
      await restoreFleet(db.url, policy)
      expect(await versions(db.url)).toEqual(before)
    } finally {
      await db.drop()
    }
  })

  it("a changed time limit is a real change: each restored agent re-arms under it and is written once", async () => {
    const db = await freshFleet()
    try {
      const before = await versions(db.url)
      await restoreFleet(db.url, { ...policy, offlineAfterMs: 7_200_000 })
      expect(await versions(db.url)).toEqual(before.map((row) => ({ ...row, version: String(Number(row.version) + 1) })))
    } finally {
      await db.drop()
    }
  })
})
