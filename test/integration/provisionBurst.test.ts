import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startOpenClawGateway, type RealGateway } from "../support/openclawGateway.ts"

const BURST = 50

// Its own gateway: fifty agents would slow every suite that shares one after it.
describe.skipIf(inject("realGateway") === null)("a burst of agents against a real OpenClaw gateway", () => {
  let db: { url: string; drop: () => Promise<void> }
  let service: InProcessService
  let gateway: RealGateway

  beforeAll(async () => {
    gateway = await startOpenClawGateway()
    db = await createTestDatabase()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 600_000, configBatchMs: 250 })
  })
  afterAll(async () => {
    await service?.stop()
    await db?.drop()
    await gateway?.stop()
  })

  it(`provisions ${BURST} agents at once with a handful of config.patch calls and no gateway restart`, async () => {
    const { boardId } = await registerGatewayAndBoard(service, gateway, "burst")
    const before = await service.gatewayStats()
    const started = Date.now()
    const created = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=240000", { name: `burst-${i}`, board_id: boardId })
      )
    )
    const elapsed = Date.now() - started
    expect(created.map((answer) => answer.status)).toEqual(Array(BURST).fill(201))
    const after = await service.gatewayStats()
    const patches = (after.calls["config.patch"] ?? 0) - (before.calls["config.patch"] ?? 0)
    // Registering opened two: the create's runtime check (a throwaway socket) and the gateway's own.
    const sockets = after.socketsOpened - before.socketsOpened
    console.log(`[measure] ${BURST} agents provisioned in ${elapsed} ms with ${patches} config.patch calls and ${sockets} new socket(s)`)
    expect(patches).toBeGreaterThan(0)
    expect(patches).toBeLessThanOrEqual(5)
    // Our heartbeat patches are hot-reloaded: the gateway never says they need a restart
    // (docs/operations.md §6.5).
    const log = await gateway.log()
    expect(log.split("\n").filter((line) => /config change requires gateway restart/.test(line))).toEqual([])
    // A socket opened during the burst means the gateway restarted. Only its own recovery restart
    // (a reload surface that failed, which config.patch reports as "a recovery restart is
    // required") may do that; then it must say so in its log.
    if (sockets > 0) expect(log).toMatch(/restarting gateway|recovery restart/)
  })
})
