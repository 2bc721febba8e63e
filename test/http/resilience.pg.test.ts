import { describe, expect, it } from "vitest"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import type { InProcessService } from "../support/inProcessService.ts"
import type { GatewaySimulator, SimulatorOptions } from "../support/simulator/GatewaySimulator.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"

/**
 * Gateway faults in the middle of lifecycle work (docs/gateway-protocol.md §0.7, §1: 1012 restart,
 * 4001 policy change; hung calls): agents must converge, never stay in applying/retrying/failed,
 * and leave exactly one gateway agent each, holding a token that authenticates.
 */

interface AgentView {
  readonly id: string
  readonly name: string
  readonly state: string
  readonly gateway_agent_id: string
  readonly session_key: string
  readonly last_error: { tag: string; message: string; transient: boolean; step: string } | null
  readonly lifecycle?: { attempts: number; generation: number }
}

interface Stack {
  readonly simulator: GatewaySimulator
  readonly service: InProcessService
  readonly boardId: string
  /** Every agent of this stack, from the read model. */
  readonly agents: () => Promise<Array<AgentView>>
  readonly agent: (id: string) => Promise<AgentView>
  /** The `AUTH_TOKEN` written into the agent's AGENTS.md on the simulator. */
  readonly tokenOf: (gatewayAgentId: string) => string | undefined
  readonly heartbeat: (token: string) => Promise<{ status: number; body: any }>
}

/** The shared simulated stack, with this file's views of the board's agents; torn down after `body`. */
const withStack = (simulatorOptions: SimulatorOptions, config: Partial<AppConfigShape>, body: (stack: Stack) => Promise<void>) =>
  withSimulatedStack({ simulator: simulatorOptions, config, boardName: "Resilience" }, ({ simulator, service, boardId }) => {
    const api = service.api
    return body({
      simulator,
      service,
      boardId,
      // The board's agents: the gateway-main agent provisions beside them and is not under test here.
      agents: async () => (await api("GET", `/api/v1/agents?board_id=${boardId}`)).body.items as Array<AgentView>,
      agent: async (id) => (await api("GET", `/api/v1/agents/${id}`)).body as AgentView,
      tokenOf: (gatewayAgentId) => readAuthToken(simulator.state.files.get(gatewayAgentId)?.get("AGENTS.md") ?? ""),
      heartbeat: async (token) => {
        const response = await fetch(`${service.url}/api/v1/agent/heartbeat`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-agent-token": token },
          body: "{}"
        })
        return { status: response.status, body: await response.json() }
      }
    })
  })

const createAgents = async (stack: Stack, names: ReadonlyArray<string>) => {
  const created = await Promise.all(names.map((name) => stack.service.api("POST", "/api/v1/agents", { name, board_id: stack.boardId })))
  for (const answer of created) expect(answer.status).toBe(201)
  return created.map((answer) => answer.body as AgentView)
}

/** Polls until every agent is in `state`; the failure message lists the ones that are not. */
const allReach = (stack: Stack, state: string, timeout: number) =>
  expect
    .poll(async () => (await stack.agents()).filter((agent) => agent.state !== state).map((agent) => `${agent.name}: ${agent.state} ${JSON.stringify(agent.last_error)}`), {
      timeout,
      interval: 100
    })
    .toEqual([])

const configEntries = (simulator: GatewaySimulator) =>
  ((simulator.state.config["agents"] as { entries?: Record<string, { name?: string }> } | undefined)?.entries ?? {})

/** Calls the simulator logged strictly before `at` and strictly after `after` (epoch ms). */
const callsAround = (simulator: GatewaySimulator, at: number, after: number) => ({
  before: simulator.calls.filter((call) => call.at < at).map((call) => call.method),
  after: simulator.calls.filter((call) => call.at > after).map((call) => call.method)
})

/**
 * After a fault mid-provisioning: exactly one gateway agent per Switchyard agent, each
 * display name in its config entry, one wake per agent, and a token in AGENTS.md that the
 * service accepts (its heartbeat brings the agent online).
 */
const expectConsistentFleet = async (stack: Stack, agents: ReadonlyArray<AgentView>) => {
  const { simulator } = stack
  // Every Switchyard agent, the gateway-main one included, exactly once.
  const everyone = (await stack.service.api("GET", "/api/v1/agents")).body.items as Array<AgentView>
  expect(everyone.map((agent) => agent.gateway_agent_id)).toEqual(expect.arrayContaining(agents.map((agent) => agent.gateway_agent_id)))
  expect([...simulator.state.agents.keys()].filter((id) => id !== "main").sort()).toEqual(everyone.map((agent) => agent.gateway_agent_id).sort())
  const entries = configEntries(simulator)
  for (const agent of agents) expect(entries[agent.gateway_agent_id]?.name, agent.name).toBe(agent.name)
  for (const agent of agents) {
    const wakes = (simulator.state.chat.get(agent.session_key) ?? []).filter((row) => row.role === "user" && row.content.startsWith(`Hello ${agent.name}.`))
    expect(wakes.length, `wake messages of ${agent.name}`).toBe(1)
  }
  for (const agent of agents) {
    const token = stack.tokenOf(agent.gateway_agent_id)
    expect(token, `token in AGENTS.md of ${agent.name}`).toMatch(/^sy_/)
    const beat = await stack.heartbeat(token!)
    expect({ name: agent.name, status: beat.status, state: beat.body.state }).toEqual({ name: agent.name, status: 200, state: "online" })
  }
}

/**
 * Keeps one `hang` fault queued on `method` until stopped, so every call of it goes unanswered
 * however many retries the service makes; after `stop()` exactly one queued fault is left.
 */
const hangEvery = (simulator: GatewaySimulator, method: string) => {
  let injected = 0
  // Calls made before (the gateway-main agent's) used no fault.
  const before = simulator.countOf(method)
  const topUp = () => {
    while (injected - (simulator.countOf(method) - before) < 1) {
      simulator.inject({ method, hang: true, times: 1 })
      injected += 1
    }
  }
  topUp()
  // Calls of one agent are ≥ 300 ms apart (call timeout + backoff); 5 ms keeps a fault queued.
  const timer = setInterval(topUp, 5)
  return { stop: () => clearInterval(timer) }
}

/** Shortened lifecycle limits for the hung-gateway cases. */
const HUNG_CONFIG = { gatewayCallTimeoutMs: 300, maxAttempts: 2, retryBaseMs: 100 } as const

describe("gateway faults mid-lifecycle (in-process service, simulated gateway)", () => {
  it("a gateway restart while 10 agents provision: all converge to provisioning.awaiting", async () => {
    await withStack({ latencyMs: 100, agentReadyDelayMs: 1_500 }, { retryBaseMs: 100, gatewayCallTimeoutMs: 5_000 }, async (stack) => {
      const { simulator } = stack
      const agents = await createAgents(stack, Array.from({ length: 10 }, (_, i) => `Restart ${i}`))
      // The restart lands while the first agents.create answers are still on the wire (100 ms latency).
      await expect.poll(() => simulator.countOf("agents.create"), { timeout: 10_000, interval: 5 }).toBeGreaterThan(0)
      const midFlight = await stack.agents()
      const restartAt = Date.now()
      await simulator.restart({ downMs: 500 })
      const upAt = Date.now()

      await allReach(stack, "provisioning.awaiting", 20_000)

      expect(midFlight.map((agent) => agent.state)).toEqual(agents.map(() => "provisioning.applying"))
      const around = callsAround(simulator, restartAt, upAt)
      expect(around.before).toContain("agents.create")
      expect(around.after).toEqual(expect.arrayContaining(["agents.create", "agents.files.list", "config.patch", "agents.files.set", "chat.send"]))
      // A create whose answer the restart swallowed was sent again ("already exists" counts as done).
      expect(simulator.countOf("agents.create")).toBeGreaterThan(agents.length)
      expect((await stack.service.gatewayStats()).socketsOpened).toBeGreaterThanOrEqual(2)
      await expectConsistentFleet(stack, agents)
    })
  }, 30_000)

  it("a policy change (4001) while 10 provisioning agents write their config: all converge", async () => {
    await withStack(
      { latencyMs: 50, agentReadyDelayMs: 1_000, configPatchDelayMs: 500 },
      { retryBaseMs: 100, gatewayCallTimeoutMs: 5_000 },
      async (stack) => {
        const { simulator } = stack
        const agents = await createAgents(stack, Array.from({ length: 10 }, (_, i) => `Policy ${i}`))
        // config.patch is applied at once and answered 550 ms later: the close loses its answer.
        await expect.poll(() => simulator.countOf("config.patch"), { timeout: 15_000, interval: 5 }).toBeGreaterThan(0)
        const midFlight = await stack.agents()
        const closedAt = Date.now()
        simulator.closeAll(4001, "gateway policy changed")

        await allReach(stack, "provisioning.awaiting", 20_000)

        expect(midFlight.map((agent) => agent.state)).toEqual(agents.map(() => "provisioning.applying"))
        const around = callsAround(simulator, closedAt, closedAt)
        expect(around.before).toEqual(expect.arrayContaining(["agents.create", "config.get", "config.patch"]))
        expect(around.after).toEqual(expect.arrayContaining(["config.get", "agents.files.set", "chat.send"]))
        // The batch was re-read after the lost answer, not patched blindly twice.
        expect(simulator.countOf("config.get")).toBeGreaterThanOrEqual(2)
        expect((await stack.service.gatewayStats()).socketsOpened).toBeGreaterThanOrEqual(2)
        await expectConsistentFleet(stack, agents)
      }
    )
  }, 30_000)

  it("a gateway restart while 5 online agents are renamed: every update leaves updating", async () => {
    await withStack({ latencyMs: 100, agentReadyDelayMs: 200 }, { retryBaseMs: 100, gatewayCallTimeoutMs: 5_000 }, async (stack) => {
      const { simulator, service } = stack
      const agents = await createAgents(stack, Array.from({ length: 5 }, (_, i) => `Online ${i}`))
      await allReach(stack, "provisioning.awaiting", 15_000)
      const oldTokens = new Map(agents.map((agent) => [agent.id, stack.tokenOf(agent.gateway_agent_id)!]))
      for (const agent of agents) {
        const beat = await stack.heartbeat(oldTokens.get(agent.id)!)
        expect({ status: beat.status, state: beat.body.state }).toEqual({ status: 200, state: "online" })
      }

      const sessionPatches = simulator.countOf("sessions.patch")
      const renamed = await Promise.all(agents.map((agent) => service.api("PATCH", `/api/v1/agents/${agent.id}`, { name: `Renamed ${agent.name}` })))
      for (const answer of renamed) expect(answer.status).toBe(200)
      await expect.poll(() => simulator.countOf("sessions.patch"), { timeout: 10_000, interval: 5 }).toBeGreaterThan(sessionPatches)
      const midFlight = await stack.agents()
      const restartAt = Date.now()
      await simulator.restart({ downMs: 500 })
      const upAt = Date.now()

      await allReach(stack, "updating.awaiting", 20_000)

      expect(midFlight.map((agent) => agent.state)).toEqual(agents.map(() => "updating.applying"))
      const around = callsAround(simulator, restartAt, upAt)
      expect(around.before).toContain("sessions.patch")
      expect(around.after).toEqual(expect.arrayContaining(["config.patch", "agents.files.set", "sessions.reset", "chat.send"]))
      expect((await stack.agents()).map((agent) => agent.name).sort()).toEqual(agents.map((agent) => `Renamed ${agent.name}`).sort())
      const boardAgentIds = [...simulator.state.agents.keys()].filter((id) => id !== "main" && !id.startsWith("mc-gateway-"))
      expect(boardAgentIds.sort()).toEqual(agents.map((agent) => agent.gateway_agent_id).sort())
      const entries = configEntries(simulator)
      for (const agent of agents) expect(entries[agent.gateway_agent_id]?.name).toBe(`Renamed ${agent.name}`)
      for (const agent of agents) {
        const wakes = (simulator.state.chat.get(agent.session_key) ?? []).filter((row) => row.role === "user" && row.content.startsWith(`Hello Renamed ${agent.name}.`))
        expect(wakes.length, `update wakes of ${agent.name}`).toBe(1)
      }
      // The update minted a new token; the one now in AGENTS.md authenticates.
      for (const agent of agents) {
        const token = stack.tokenOf(agent.gateway_agent_id)
        expect(token).toMatch(/^sy_/)
        expect(token).not.toBe(oldTokens.get(agent.id))
        const beat = await stack.heartbeat(token!)
        expect({ status: beat.status, state: beat.body.state }).toEqual({ status: 200, state: "online" })
      }
    })
  }, 30_000)

  /**
   * A hung call times out after `gatewayCallTimeoutMs` and, not being retried inside the
   * program, reaches the machine at once: the agent shows why it is stuck.
   */
  it("a gateway that never answers shows as provisioning.retrying/failed with a GatewayTimeoutError within 20 s", async () => {
    await withStack({}, HUNG_CONFIG, async (stack) => {
      stack.simulator.inject({ method: "sessions.patch", hang: true, times: 1_000 })
      const [agent] = await createAgents(stack, ["Hung"])
      await expect
        .poll(
          async () => {
            const seen = await stack.agent(agent!.id)
            return { state: seen.state, tag: seen.last_error?.tag, message: seen.last_error?.message }
          },
          { timeout: 20_000, interval: 25 }
        )
        .toEqual({ state: expect.stringMatching(/^provisioning\.(retrying|failed)$/), tag: "GatewayTimeoutError", message: "sessions.patch: no answer within 300 ms" })
    })
  }, 30_000)

  /**
   * The whole hung-gateway path: `provisioning.failed` after `maxAttempts`, then, with the fault
   * gone, `POST /retry` provisions it.
   */
  it(
    "a gateway that never answers ends in provisioning.failed; once it answers, POST /retry provisions the agent",
    async () => {
      await withStack({}, HUNG_CONFIG, async (stack) => {
        const { simulator, service } = stack
        const hang = hangEvery(simulator, "sessions.patch")
        const [agent] = await createAgents(stack, ["Hung"])
        try {
          await expect.poll(async () => (await stack.agent(agent!.id)).state, { timeout: 20_000, interval: 50 }).toBe("provisioning.failed")
        } finally {
          hang.stop()
        }
        const failed = await stack.agent(agent!.id)
        expect(failed.last_error).toMatchObject({ tag: "GatewayTimeoutError", message: "sessions.patch: no answer within 300 ms", transient: true, step: "apply" })
        expect(failed.lifecycle?.attempts).toBe(HUNG_CONFIG.maxAttempts)
        expect(simulator.state.agents.has(agent!.gateway_agent_id)).toBe(false)

        const retried = await service.api("POST", `/api/v1/agents/${agent!.id}/retry?wait_for=provisioning.awaiting&timeout_ms=20000`)
        expect({ status: retried.status, state: retried.body.state, last_error: retried.body.last_error }).toEqual({
          status: 200,
          state: "provisioning.awaiting",
          last_error: null
        })
        await expectConsistentFleet(stack, [failed])
      })
    },
    30_000
  )
})
