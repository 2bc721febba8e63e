import { randomUUID } from "node:crypto"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { AgentSystem } from "../../src/agents/AgentSystem.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { BoardRepo, BoardRepoLive } from "../../src/store/BoardRepo.ts"
import { MigrationsLive, SqlLive } from "../../src/store/Database.ts"
import { GatewayRepo, GatewayRepoLive } from "../../src/store/GatewayRepo.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { seedOnlineFleet } from "./onlineFleet.ts"

const policy: AgentPolicy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000 }
const FLEET = 300

/** A fresh database holding a gateway, a board and `FLEET` online agents at version 1. */
const freshFleet = async () => {
  const db = await createTestDatabase()
  const store = ManagedRuntime.make(
    Layer.mergeAll(GatewayRepoLive, BoardRepoLive).pipe(
      Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)),
      Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))
    )
  )
  const ids = await store.runPromise(
    Effect.gen(function* () {
      const gateway = yield* Effect.flatMap(GatewayRepo, (repo) =>
        repo.insert({ id: randomUUID(), name: "Fleet", url: "ws://127.0.0.1:1", token: Redacted.make("t"), workspaceRoot: "/srv" })
      )
      const board = yield* Effect.flatMap(BoardRepo, (repo) => repo.insert({ id: randomUUID(), gatewayId: gateway.id, name: "Fleet" }))
      return { gatewayId: gateway.id, boardId: board.id }
    })
  )
  await store.dispose()
  await seedOnlineFleet(db.url, { ...ids, count: FLEET, policy })
  return db
}

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
const restoreFleet = async (url: string, servicePolicy: AgentPolicy) => {
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
