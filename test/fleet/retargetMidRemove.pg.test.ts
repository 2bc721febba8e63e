import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { registerGatewayAndBoard, type InProcessService } from "../support/inProcessService.ts"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { mentioning, startMovingGateway, type MovingGateway } from "./movingGateway.ts"

/**
 * A PATCH of a gateway's url while one of its agents is being removed (docs/architecture.md §9.1
 * "Update"): the call in flight fails as retargeted, not as a final "connection disposed", and the
 * whole (idempotent) remove is redone on the new url, never left half-done nor finished on the old one.
 */
describe("a remove in flight when its gateway's url changes", () => {
  let fixture: MovingGateway | undefined
  let old: GatewaySimulator
  let moved: GatewaySimulator
  let service: InProcessService

  beforeAll(async () => {
    fixture = await startMovingGateway()
    ;({ old, moved } = fixture)
    service = fixture.services[0]!
  })
  afterAll(() => fixture?.stop())

  /** Creates an agent on `old`, lets `method`'s calls for it hang there, deletes it, and PATCHes the url once that call is out. */
  const removeAcrossPatch = async (name: string, method: "agents.delete" | "sessions.delete") => {
    const { gatewayId, boardId } = await registerGatewayAndBoard(service, old, name)
    const created = await service.api("POST", "/api/v1/agents", { name, board_id: boardId })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const agentId = created.body.id as string
    const gatewayAgentId = created.body.gateway_agent_id as string
    const mentions = mentioning(gatewayAgentId)
    await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${agentId}`)).body.state, { timeout: 30_000, interval: 20 }).toBe("provisioning.awaiting")
    old.inject({ method, hang: true, when: (params) => mentions({ params }) })

    const deleted = await service.api("DELETE", `/api/v1/agents/${agentId}`)
    expect(deleted.status, JSON.stringify(deleted.body)).toBeLessThan(300)
    await expect.poll(() => old.calls.some((call) => call.method === method && mentions(call)), { timeout: 20_000, interval: 10 }).toBe(true)
    const patched = await service.api("PATCH", `/api/v1/gateways/${gatewayId}`, { url: moved.url })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    const patchedAt = Date.now()

    await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${agentId}`)).status, { timeout: 30_000, interval: 20 }).toBe(404)
    return { patchedAt, mentions }
  }

  it("an agents.delete in flight is redone on the new url: the agent is deleted, and the old address gets none of its calls after the PATCH", async () => {
    const { patchedAt, mentions } = await removeAcrossPatch("Leaver", "agents.delete")
    expect(moved.calls.filter((call) => call.method === "agents.delete" && mentions(call))).not.toHaveLength(0)
    expect(old.calls.filter((call) => call.at >= patchedAt && mentions(call))).toEqual([])
  })

  it("a best-effort sessions.delete in flight is not dropped: the remove is redone on the new url, and the old address gets none of its calls after the PATCH", async () => {
    const { patchedAt, mentions } = await removeAcrossPatch("Tidier", "sessions.delete")
    expect(moved.calls.filter((call) => call.method === "sessions.delete" && mentions(call))).not.toHaveLength(0)
    expect(old.calls.filter((call) => call.at >= patchedAt && mentions(call))).toEqual([])
  })
})
