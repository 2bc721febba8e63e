import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { registerGatewayAndBoard, type InProcessService } from "../support/inProcessService.ts"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { mentioning, startMovingGateway, type MovingGateway } from "./movingGateway.ts"

/** How long a created agent stays invisible on the old address: the apply polls for it meanwhile, and the PATCH lands then. */
const READY_DELAY_MS = 5_000

/**
 * A PATCH of a gateway's url while one of its agents is being applied (docs/architecture.md §9.1
 * "Update"): the apply does not finish against the old address; it is redone on the new one.
 */
describe("an apply in flight when its gateway's url changes", () => {
  let fixture: MovingGateway | undefined
  let old: GatewaySimulator
  let moved: GatewaySimulator
  let service: InProcessService

  beforeAll(async () => {
    fixture = await startMovingGateway({ agentReadyDelayMs: READY_DELAY_MS })
    ;({ old, moved } = fixture)
    service = fixture.services[0]!
  })
  afterAll(() => fixture?.stop())

  it("is redone against the new url: the agent is whole there, and the old address gets none of its calls after the PATCH", async () => {
    const { gatewayId, boardId } = await registerGatewayAndBoard(service, old, "Moving")
    const created = await service.api("POST", "/api/v1/agents", { name: "Mover", board_id: boardId })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const gatewayAgentId = created.body.gateway_agent_id as string
    const mentions = mentioning(gatewayAgentId)
    // The apply has created the agent on the old address and waits for it to be usable there.
    await expect.poll(() => old.calls.some((call) => call.method === "agents.create" && mentions(call)), { timeout: 20_000, interval: 10 }).toBe(true)

    const patched = await service.api("PATCH", `/api/v1/gateways/${gatewayId}`, { url: moved.url })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    const patchedAt = Date.now()

    await expect
      .poll(async () => (await service.api("GET", `/api/v1/agents/${created.body.id}`)).body.state, { timeout: 30_000, interval: 20 })
      .toBe("provisioning.awaiting")
    expect(moved.calls.filter((call) => call.method === "agents.create" && mentions(call))).not.toHaveLength(0)
    expect(readAuthToken(moved.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")).toMatch(/^sy_/)
    expect(old.calls.filter((call) => call.at >= patchedAt && mentions(call))).toEqual([])
  })
})

/** The same through the runner that does not own the gateway: the change reaches the owner, where the apply runs. */
describe("an apply in flight when its gateway's url changes through another runner", () => {
  let fixture: MovingGateway | undefined
  let old: GatewaySimulator
  let moved: GatewaySimulator
  let a: InProcessService
  let b: InProcessService

  beforeAll(async () => {
    fixture = await startMovingGateway({ agentReadyDelayMs: READY_DELAY_MS }, 2)
    ;({ old, moved } = fixture)
    ;[a, b] = fixture.services as [InProcessService, InProcessService]
  })
  afterAll(() => fixture?.stop())

  it("is redone against the new url on the owner", async () => {
    const { gatewayId, boardId } = await registerGatewayAndBoard(a, old, "Moving far")
    const created = await a.api("POST", "/api/v1/agents", { name: "Far mover", board_id: boardId })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const gatewayAgentId = created.body.gateway_agent_id as string
    const mentions = mentioning(gatewayAgentId)
    await expect.poll(() => old.calls.some((call) => call.method === "agents.create" && mentions(call)), { timeout: 20_000, interval: 10 }).toBe(true)
    const cluster = (await a.api("GET", "/api/v1/cluster")).body as { self: string; gateways: Array<{ gateway_id: string; runner: string }> }
    const owner = cluster.gateways.find((gateway) => gateway.gateway_id === gatewayId)?.runner
    expect(owner).toBeDefined()
    const other = owner === cluster.self ? b : a
    expect((await other.api("GET", "/api/v1/cluster")).body.self).not.toBe(owner)

    const patched = await other.api("PATCH", `/api/v1/gateways/${gatewayId}`, { url: moved.url })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    const patchedAt = Date.now()

    await expect
      .poll(async () => (await a.api("GET", `/api/v1/agents/${created.body.id}`)).body.state, { timeout: 30_000, interval: 20 })
      .toBe("provisioning.awaiting")
    expect(readAuthToken(moved.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")).toMatch(/^sy_/)
    expect(old.calls.filter((call) => call.at >= patchedAt && mentions(call))).toEqual([])
  })
})
