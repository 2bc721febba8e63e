import { describe, expect, it } from "vitest"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import type { InProcessService } from "../support/inProcessService.ts"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * A hung gateway call, one method at a time: every method the lifecycle programs call may go
 * unanswered, and the agent must then show why (`retrying`/`failed` with a
 * `GatewayTimeoutError`) within about one call timeout, never freeze in `applying`,
 * `waking` or `deleting`. One agent's hung call never holds another agent on the same gateway.
 */

interface AgentView {
  readonly id: string
  readonly name: string
  readonly state: string
  readonly gateway_agent_id: string
  readonly last_error: { tag: string; message: string; transient: boolean; step: string; at: number } | null
}

interface Stack {
  readonly simulator: GatewaySimulator
  readonly service: InProcessService
  readonly boardId: string
  readonly agent: (id: string) => Promise<AgentView>
  readonly create: (name: string) => Promise<AgentView>
}

/** The call timeout of these tests, ms. */
const CALL_TIMEOUT_MS = 300

/** The calls of the gateway-main agent, which provisions before any fault is injected. */
const isMainAgentCall = (params: unknown) => JSON.stringify(params ?? {}).includes("mc-gateway-")

/** The shared simulated stack, with a `create` for the board's agents; torn down after `body`. */
const withStack = (config: Partial<AppConfigShape>, body: (stack: Stack) => Promise<void>) =>
  withSimulatedStack({ config, boardName: "Faults" }, ({ simulator, service, boardId }) =>
    body({
      simulator,
      service,
      boardId,
      agent: async (id) => (await service.api("GET", `/api/v1/agents/${id}`)).body as AgentView,
      create: async (name) => {
        const created = await service.api("POST", "/api/v1/agents", { name, board_id: boardId })
        expect(created.status, JSON.stringify(created.body)).toBe(201)
        return created.body as AgentView
      }
    })
  )

interface HungCase {
  readonly method: string
  /** Gets the agent to the step that calls `method`, the fault already injected; returns the agents under test. */
  readonly drive: (stack: Stack) => Promise<ReadonlyArray<AgentView>>
  /** Where the agent shows the timeout. */
  readonly shows: RegExp
}

const provision = (count: number) => async (stack: Stack) =>
  Promise.all(Array.from({ length: count }, (_, i) => stack.create(`Hung ${i}`)))

/** Provisions one agent with no fault, then injects the hang and runs `then` on it. */
const onceProvisioned = (method: string, then: (stack: Stack, agent: AgentView) => Promise<void>) => async (stack: Stack) => {
  const agent = await stack.create("Hung 0")
  await expect.poll(async () => (await stack.agent(agent.id)).state, { timeout: 10_000, interval: 20 }).toBe("provisioning.awaiting")
  hang(stack.simulator, method)
  await then(stack, agent)
  return [agent]
}

const hang = (simulator: GatewaySimulator, method: string) =>
  simulator.inject({ method, hang: true, times: 100_000, when: (params) => !isMainAgentCall(params) })

const PROVISIONING = /^provisioning\.(retrying|wakeRetrying|failed)$/

const CASES: ReadonlyArray<HungCase> = [
  // Five agents on one gateway, as in the freeze this suite guards against.
  { method: "agents.create", drive: provision(5), shows: PROVISIONING },
  { method: "sessions.patch", drive: provision(1), shows: PROVISIONING },
  { method: "agents.files.list", drive: provision(1), shows: PROVISIONING },
  { method: "config.get", drive: provision(1), shows: PROVISIONING },
  { method: "config.patch", drive: provision(1), shows: PROVISIONING },
  { method: "agents.files.set", drive: provision(1), shows: PROVISIONING },
  { method: "chat.send", drive: provision(1), shows: PROVISIONING },
  {
    method: "sessions.reset",
    drive: onceProvisioned("sessions.reset", async (stack, agent) => {
      const renamed = await stack.service.api("PATCH", `/api/v1/agents/${agent.id}`, { name: "Renamed" })
      expect(renamed.status).toBe(200)
    }),
    shows: /^updating\.(retrying|failed)$/
  },
  {
    method: "agents.delete",
    drive: onceProvisioned("agents.delete", async (stack, agent) => {
      const deleted = await stack.service.api("DELETE", `/api/v1/agents/${agent.id}`)
      expect(deleted.status).toBeLessThan(300)
    }),
    shows: /^deleting\.(retrying|failed)$/
  }
]

describe("hung gateway calls (in-process service, simulated gateway)", () => {
  for (const { method, drive, shows } of CASES) {
    it(`a hung ${method} shows as a GatewayTimeoutError within one call timeout`, async () => {
      // A retry waits 2 s, so the first `retrying` stays long enough to be seen.
      await withStack({ gatewayCallTimeoutMs: CALL_TIMEOUT_MS, maxAttempts: 3, retryBaseMs: 2_000 }, async (stack) => {
        const { simulator } = stack
        if (method !== "sessions.reset" && method !== "agents.delete") hang(simulator, method)
        const agents = await drive(stack)
        let shownAt: number | undefined
        for (const agent of agents) {
          await expect
            .poll(
              async () => {
                const seen = await stack.agent(agent.id)
                return { state: seen.state, tag: seen.last_error?.tag, message: seen.last_error?.message }
              },
              { timeout: 10_000, interval: 20 }
            )
            .toEqual({ state: expect.stringMatching(shows), tag: "GatewayTimeoutError", message: `${method}: no answer within ${CALL_TIMEOUT_MS} ms` })
          shownAt ??= Date.now()
        }
        // From the first unanswered call to the state showing it: one call timeout, plus the
        // machine's transition, its write and this poll (the machine is shared, so generous).
        const hungAt = simulator.calls.find((call) => call.method === method && !isMainAgentCall(call.params))!.at
        expect(shownAt! - hungAt).toBeGreaterThanOrEqual(CALL_TIMEOUT_MS - 50)
        expect(shownAt! - hungAt).toBeLessThan(CALL_TIMEOUT_MS + 3_000)
      })
    }, 30_000)
  }

  it("one agent's hung agents.create holds no other agent on the gateway", async () => {
    const callTimeoutMs = 12_000
    await withStack({ gatewayCallTimeoutMs: callTimeoutMs, retryBaseMs: 100 }, async (stack) => {
      const { simulator } = stack
      // Only the first board agent's create goes unanswered.
      let victim: unknown
      simulator.inject({
        method: "agents.create",
        hang: true,
        times: 1,
        when: (params) => {
          const name = (params as { name?: unknown }).name
          victim ??= name
          return name === victim
        }
      })
      // The main agent's create came before: this one's is the next (a poll for a total of 1 held
      // only until this create arrived, so it could pass before the create was ever sent).
      const createsBefore = simulator.countOf("agents.create")
      const hung = await stack.create("Hung")
      await expect.poll(() => simulator.countOf("agents.create"), { timeout: 10_000, interval: 10 }).toBe(createsBefore + 1)
      const hungAt = Date.now()
      const others = await Promise.all(["Other 0", "Other 1"].map((name) => stack.create(name)))
      for (const other of others) {
        await expect.poll(async () => (await stack.agent(other.id)).state, { timeout: 9_000, interval: 25 }).toBe("provisioning.awaiting")
      }
      // The others are done while the first one's create is still unanswered.
      expect(Date.now() - hungAt).toBeLessThan(callTimeoutMs)
      expect(await stack.agent(hung.id)).toMatchObject({ state: "provisioning.applying", last_error: null })
      const entries = (simulator.state.config["agents"] as { entries: Record<string, { name?: string }> }).entries
      for (const other of others) expect(entries[other.gateway_agent_id]?.name).toBe(other.name)

      // Then the hung create times out, shows, and the retry provisions the agent.
      await expect
        .poll(async () => (await stack.agent(hung.id)).last_error?.tag, { timeout: callTimeoutMs + 5_000, interval: 50 })
        .toBe("GatewayTimeoutError")
      await expect.poll(async () => (await stack.agent(hung.id)).state, { timeout: 10_000, interval: 50 }).toBe("provisioning.awaiting")
    })
  }, 60_000)
})
