import { describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { registerGatewayAndBoard } from "../support/inProcessService.ts"
import { useSimulatedService } from "../support/useSimulatedService.ts"

/**
 * docs/architecture.md §5.3: a token is valid from the moment a file holds it. An update's apply
 * that is interrupted after it wrote AGENTS.md (a second update, or its owner SIGKILLed and the
 * next owner re-running the apply) leaves the agent's workspace holding the new token before its
 * hash is saved; the apply that follows must not make that token answer 401 while the agent can
 * still read it. Seen as a 401 among the refusals of the cluster kill trials (issue 14).
 */
describe("an update interrupted after it wrote the agent's new token (in-process service, simulated gateway)", () => {
  const stack = useSimulatedService({ checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 })
  const POLL = { timeout: 15_000, interval: 25 }

  it("the token in the workspace keeps authenticating while the next apply runs, and the next apply keeps it", async () => {
    const { service, simulator } = stack
    const { boardId } = await registerGatewayAndBoard(service, simulator, "rotation")
    const created = await service.api("POST", "/api/v1/agents", { name: "Rot", board_id: boardId })
    expect(created.status).toBe(201)
    const id = created.body.id as string
    await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${id}`)).body.state, POLL).toBe("provisioning.awaiting")
    const view = (await service.api("GET", `/api/v1/agents/${id}`)).body
    const gatewayAgentId = view.gateway_agent_id as string
    const workspaceToken = () => readAuthToken(simulator.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? "")
    const beat = async (token: string) => (await service.api("POST", "/api/v1/agent/heartbeat", {}, { authorization: "", "x-agent-token": token })).status
    const first = workspaceToken()!
    expect(await beat(first)).toBe(200)
    const ofThisAgent = (params: unknown) => JSON.stringify(params).includes(gatewayAgentId)

    // Update 1 writes AGENTS.md with a new token, then hangs on its session reset: its hash is only staged.
    simulator.inject({ method: "sessions.reset", hang: true, when: ofThisAgent })
    expect((await service.api("PATCH", `/api/v1/agents/${id}`, { name: "Rot one" })).status).toBeLessThan(300)
    await expect.poll(workspaceToken, POLL).not.toBe(first)
    const written = workspaceToken()!
    expect(await beat(written)).toBe(200)

    // Update 2 interrupts it; its own AGENTS.md write hangs, so the workspace still holds update 1's token.
    const calls = simulator.calls.length
    simulator.inject({ method: "agents.files.set", hang: true, when: (params) => ofThisAgent(params) && (params as { name?: string }).name === "AGENTS.md" })
    expect((await service.api("PATCH", `/api/v1/agents/${id}`, { name: "Rot two" })).status).toBeLessThan(300)
    await expect
      .poll(() => simulator.calls.slice(calls).some((call) => call.method === "agents.files.set" && ofThisAgent(call.params) && (call.params as { name?: string }).name === "AGENTS.md"), POLL)
      .toBe(true)
    expect(workspaceToken()).toBe(written)
    expect(await beat(written)).toBe(200)
    // What update 2 writes is the token the workspace already holds: the agent never has to re-read it.
    const content = (simulator.calls.slice(calls).find((call) => call.method === "agents.files.set" && (call.params as { name?: string }).name === "AGENTS.md")?.params as { content: string }).content
    expect(readAuthToken(content)).toBe(written)
  }, 60_000)
})
