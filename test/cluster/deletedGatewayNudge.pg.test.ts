import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { ClusterStats } from "../../src/cluster/GatewayHosting.ts"
import { nudgeOwner } from "../../src/cluster/gatewayOnOwner.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"

// A deletion's nudge is sent without waiting; it may reach the owner after the gateway's row was
// deleted. The entity it activates there must host nothing: no restore, no watcher
// (docs/architecture.md §11: a deleted gateway is not revived).
describe("a gateway entity activated for a gateway with no row", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let service: InProcessService

  beforeAll(async () => {
    db = await createTestDatabase()
    service = await startInProcessService(db.url, { livenessWatchers: true })
  }, 60_000)

  afterAll(async () => {
    await service?.stop()
    await db?.drop()
  })

  it("answers a late deletion nudge without hosting the gateway or starting its programs", async () => {
    await expect.poll(async () => (await service.api("GET", "/readyz")).status, { timeout: 30_000 }).toBe(200)
    const gone = randomUUID()
    const activations = await service.runtime.runPromise(Effect.map(ClusterStats, (stats) => stats.activations))
    await service.runtime.runPromise(nudgeOwner(gone, "deleting"))
    const local = await service.runtime.runPromise(LocalAgents)
    expect(local.hosts(gone)).toBe(false)
    expect(await service.runtime.runPromise(Effect.map(ClusterStats, (stats) => stats.activations))).toBe(activations)
    expect((await service.api("GET", `/api/v1/gateways/${gone}/liveness`)).status).toBe(404)
  }, 60_000)
})
