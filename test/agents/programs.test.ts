import { it } from "@effect/vitest"
import { Cause, type Context, Effect, Exit, Layer } from "effect"
import { describe, expect } from "vitest"
import type { AgentIdentity, AgentSpec, ApplyInput, ApplyRequest, WakeInput } from "../../machines/agent/agentTypes.ts"
import { GatewayNotFound } from "../../src/agents/GatewayRowErrors.ts"
import { hashAgentToken } from "../../src/agents/agentTokens.ts"
import { applyAgent } from "../../src/agents/programs/applyAgent.ts"
import { ensureGatewayAgent } from "../../src/agents/programs/ensureGatewayAgent.ts"
import { AgentConfigBatcher, AgentConfigBatcherLive } from "../../src/agents/AgentConfigBatcher.ts"
import { removeAgent } from "../../src/agents/programs/removeAgent.ts"
import { wakeAgent, wakeMessage } from "../../src/agents/programs/wakeAgent.ts"
import { toStepError } from "../../src/agents/toStepError.ts"
import { AppConfigTest, type AppConfig } from "../../src/config/AppConfig.ts"
import { GatewayClient, GatewayClientLive, type GatewayTarget } from "../../src/gateway/GatewayClient.ts"
import { GatewayRpcError } from "../../src/gateway/GatewayError.ts"
import { AgentRepo } from "../../src/store/AgentRepo.ts"
import type { TaskRepo } from "../../src/store/TaskRepo.ts"
import type { BoardRepo } from "../../src/store/BoardRepo.ts"
import { targetOf, type GatewayRepo } from "../../src/store/GatewayRepo.ts"
import { startGatewaySimulator, type GatewaySimulator, type SimulatorOptions } from "../support/simulator/GatewaySimulator.ts"
import { makeFakeRepos, makeGatewayRecord, makeGoalBoard } from "./fakeRepos.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import type { WorkspaceHashes } from "../../src/store/WorkspaceHashes.ts"

const AGENT_ID = "7b0c0a4e-0000-4000-8000-000000000001"
const GATEWAY_AGENT_ID = `mc-${AGENT_ID}`
const SESSION_KEY = `agent:${GATEWAY_AGENT_ID}:main`
const WORKSPACE_ROOT = "/srv/gw/.openclaw"
const BASE_URL = "http://switchyard.test:8000"

const identity: AgentIdentity = {
  agentId: AGENT_ID,
  gatewayId: "gw-1",
  boardId: "b1",
  role: "worker",
  gatewayAgentId: GATEWAY_AGENT_ID,
  sessionKey: SESSION_KEY
}
const spec: AgentSpec = { name: "Ada", heartbeat: { every: "10m", target: "none" }, identityProfile: null, identityTemplate: null, soulTemplate: null }

const applyInput = (request: Partial<ApplyRequest> = {}, tokenHash: string | null = null): ApplyInput => ({
  ...identity,
  spec,
  request: { action: "provision", resetSession: false, forceBootstrap: false, rotateToken: true, ...request },
  generation: 1,
  retired: null,
  // An update re-applies a workspace an earlier apply wrote; a provision is the first.
  workspaceSeeded: request.action === "update",
  tokenHash
})
const wakeInput = (generation: number, attempt: number): WakeInput => ({ ...identity, name: "Ada", action: "provision", generation, attempt })

/** Written on every provision (USER.md too, checked on its own below). */
const PROVISIONED = ["AGENTS.md", "BOOTSTRAP.md", "IDENTITY.md", "MEMORY.md", "SOUL.md"]

type Services = AppConfig | GatewayClient | AgentConfigBatcher | GatewayRepo | BoardRepo | AgentRepo | TaskRepo | WorkspaceHashes

/**
 * A simulator, the live gateway client pointed at it, `AppConfigTest` and the in-memory repos
 * (gateway `gw-1`, board `b1`). A staged token is stamped with the number of gateway calls made
 * so far, so its order against `sim.calls` is exact.
 */
const harness = (options: SimulatorOptions = {}) =>
  Effect.gen(function* () {
    const sim = yield* Effect.acquireRelease(Effect.promise(() => startGatewaySimulator(options)), (s) => Effect.promise(() => s.stop()))
    const { store, layer: repos } = makeFakeRepos({ stamp: () => sim.calls.length })
    store.gateways.set("gw-1", makeGatewayRecord({ id: "gw-1", url: sim.url, token: sim.token, workspaceRoot: WORKSPACE_ROOT }))
    store.boards.set("b1", makeGoalBoard("gw-1", 1))
    const context = yield* Layer.build(
      AgentConfigBatcherLive(20).pipe(
        Layer.provideMerge(
          Layer.mergeAll(
            AppConfigTest({ baseUrl: BASE_URL }),
            repos,
            GatewayClientLive({ callTimeoutMs: 2_000, handshakeTimeoutMs: 2_000, clientVersion: "0.0.0-test" })
          )
        )
      )
    )
    const run = <A, E>(effect: Effect.Effect<A, E, Services>) => Effect.provide(effect, context)
    const files = () => sim.state.files.get(GATEWAY_AGENT_ID) ?? new Map<string, string>()
    /** Names written with agents.files.set from call index `from` on, in order. */
    const written = (from = 0) =>
      sim.calls.slice(from).filter((call) => call.method === "agents.files.set").map((call) => (call.params as { name: string }).name)
    const target = targetOf(store.gateways.get("gw-1")!)
    return { sim, store, run, files, written, target }
  })

/** The agent's name as `agents.list` shows it. */
const listedName = (run: <A, E>(effect: Effect.Effect<A, E, Services>) => Effect.Effect<A, E>, target: GatewayTarget) =>
  run(Effect.flatMap(GatewayClient, (client) => client.call(target, "agents.list", {}))).pipe(
    Effect.map((listed) => listed.agents.find((agent) => agent.id === GATEWAY_AGENT_ID)?.name)
  )

const tokenIn = (agentsMd: string | undefined): string => {
  const token = readAuthToken(agentsMd ?? "")
  if (token === undefined) throw new Error("AGENTS.md carries no AUTH_TOKEN")
  return token
}

describe("applyAgent", () => {
  it.scopedLive("provision: creates the agent, waits until it is usable, pushes the heartbeat and writes the workspace", () =>
    Effect.gen(function* () {
      const { sim, store, run, files, written, target } = yield* harness({ agentReadyDelayMs: 300 })
      const output = yield* run(applyAgent(applyInput()))

      expect(sim.state.agents.get(GATEWAY_AGENT_ID)).toMatchObject({ workspace: `${WORKSPACE_ROOT}/workspace-${GATEWAY_AGENT_ID}` })
      expect(yield* listedName(run, target)).toBe("Ada")
      // The display name rides in the batched config patch; no separate agents.update write.
      expect(sim.countOf("agents.update")).toBe(0)
      expect(sim.countOf("agents.create")).toBe(1)
      // The gateway answered "not found" while the agent was hidden; the program kept asking.
      expect(sim.countOf("agents.files.list")).toBeGreaterThanOrEqual(2)
      expect(sim.calls.find((call) => call.method === "sessions.patch")?.params).toEqual({ key: SESSION_KEY, label: "Ada" })
      expect(sim.countOf("config.patch")).toBe(1)
      expect(sim.state.config).toMatchObject({ agents: { entries: { [GATEWAY_AGENT_ID]: { heartbeat: { every: "10m", target: "none" } } } } })

      expect(written()).toEqual(expect.arrayContaining(PROVISIONED))
      expect(new Set(written()).size).toBe(written().length)
      expect(files().get("MEMORY.md")).toMatch(/^# MEMORY\.md: Ada/)
      expect(files().get("IDENTITY.md")).toContain("Ada")
      expect(files().get("AGENTS.md")).toContain(BASE_URL)
      expect(sim.countOf("sessions.reset")).toBe(0)

      const token = tokenIn(files().get("AGENTS.md"))
      expect(output.tokenHash).toBe(hashAgentToken(token))
      for (const [name, content] of files()) if (name !== "AGENTS.md") expect(content, name).not.toContain(token)
      expect(store.staged).toHaveLength(1)
      expect(store.staged[0]).toMatchObject({ agentId: AGENT_ID, tokenHash: output.tokenHash })
      // Staged before the first agents.files.set reached the gateway.
      const firstWrite = sim.calls.findIndex((call) => call.method === "agents.files.set")
      expect(firstWrite).toBeGreaterThanOrEqual(0)
      expect(store.staged[0]!.stamp).toBeLessThanOrEqual(firstWrite)
    })
  )

  it.scopedLive("provision: an agents.create that never answers fails with GatewayTimeoutError within the call timeout", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      sim.inject({ method: "agents.create", hang: true })
      const started = Date.now()
      const exit = yield* Effect.exit(run(applyAgent(applyInput())))
      const elapsed = Date.now() - started
      expect(Exit.isFailure(exit) && toStepError("apply", exit.cause, 0)).toMatchObject({
        tag: "GatewayTimeoutError",
        message: "agents.create: no answer within 2000 ms",
        transient: true
      })
      // The client's callTimeoutMs is 2 s; the create was not sent again within the program.
      expect(elapsed).toBeGreaterThanOrEqual(1_900)
      expect(elapsed).toBeLessThan(4_000)
      expect(sim.countOf("agents.create")).toBe(1)
      expect(sim.countOf("config.patch")).toBe(0)
    })
  )

  // agents.create seeds a template USER.md, so "preserve when present" alone would mean
  // Switchyard's USER.md (the operator's profile) never reaches a new agent.
  it.scopedLive("provision: writes Switchyard's USER.md over the gateway's seeded template", () =>
    Effect.gen(function* () {
      const { run, files, written } = yield* harness()
      yield* run(applyAgent(applyInput()))
      expect(written()).toContain("USER.md")
      expect(files().get("USER.md")).toMatch(/^# USER\.md: your human/)
    })
  )

  it.scopedLive("update: keeps USER.md and MEMORY.md once they exist, rewrites the rest, skips an unchanged heartbeat", () =>
    Effect.gen(function* () {
      const { sim, store, run, files, written } = yield* harness()
      const first = yield* run(applyAgent(applyInput()))
      files().set("USER.md", "agent's notes about its human")
      files().set("MEMORY.md", "agent's memory")
      const before = sim.calls.length

      const second = yield* run(applyAgent(applyInput({ action: "update" })))
      expect(written(before).sort()).toEqual(["AGENTS.md", "BOOTSTRAP.md", "IDENTITY.md", "SOUL.md"])
      expect(files().get("USER.md")).toBe("agent's notes about its human")
      expect(files().get("MEMORY.md")).toBe("agent's memory")
      expect(sim.countOf("config.get")).toBe(2)
      expect(sim.countOf("config.patch")).toBe(1)
      expect(second.tokenHash).not.toBe(first.tokenHash)
      expect(hashAgentToken(tokenIn(files().get("AGENTS.md")))).toBe(second.tokenHash)
      expect(store.staged.map((entry) => entry.tokenHash)).toEqual([first.tokenHash, second.tokenHash])
      expect(store.staged[1]!.stamp).toBeLessThanOrEqual(sim.calls.findIndex((call, i) => i >= before && call.method === "agents.files.set"))

      // Once the agent has deleted BOOTSTRAP.md, an update does not bring it back.
      files().delete("BOOTSTRAP.md")
      const third = sim.calls.length
      yield* run(applyAgent(applyInput({ action: "update" })))
      expect(written(third)).not.toContain("BOOTSTRAP.md")
      expect(files().has("BOOTSTRAP.md")).toBe(false)
    })
  )

  it.scopedLive("update: checks its config entry beside the agent's preparation, not after it", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness({ latencyMs: 100 })
      yield* run(applyAgent(applyInput()))
      const before = sim.calls.length
      yield* run(applyAgent(applyInput({ action: "update" })))
      const index = (method: string) => sim.calls.findIndex((call, i) => i >= before && call.method === method)
      // Every call takes 100 ms: a check asked after the preparation would go out after the files are listed.
      expect(index("config.get")).toBeGreaterThan(-1)
      expect(index("config.get")).toBeLessThan(index("agents.files.set"))
      expect(sim.countOf("config.patch")).toBe(1)
    })
  )

  /** The live batcher, recording each entry request: whether it asked the quick check, and how many agents.create had gone out then. */
  const recordingBatcher = (sim: GatewaySimulator, live: Context.Tag.Service<typeof AgentConfigBatcher>) => {
    const asked: Array<{ readonly quick: boolean; readonly creates: number }> = []
    const batcher = AgentConfigBatcher.of({
      ...live,
      setThenReadBack: (target, gatewayAgentId, entry, options) =>
        Effect.suspend(() => {
          asked.push({ quick: options.unchangedLikely, creates: sim.countOf("agents.create") })
          return live.setThenReadBack(target, gatewayAgentId, entry, options)
        })
    })
    return { asked, batcher }
  }

  it.scopedLive("conversion: the new gateway agent's config entry is asked once agents.create has made it, not from the start", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness({ latencyMs: 100 })
      yield* run(applyAgent(applyInput()))
      const { asked, batcher } = recordingBatcher(sim, yield* run(AgentConfigBatcher))
      const before = sim.calls.length
      const converted = `mc-lead-${AGENT_ID}`
      yield* run(
        applyAgent({
          ...applyInput({ action: "update", resetSession: false }),
          gatewayAgentId: converted,
          sessionKey: `agent:${converted}:main`,
          workspaceSeeded: false,
          retired: { gatewayAgentId: GATEWAY_AGENT_ID, sessionKey: SESSION_KEY }
        }).pipe(Effect.provideService(AgentConfigBatcher, batcher))
      )
      const index = (method: string) => sim.calls.findIndex((call, i) => i >= before && call.method === method)
      expect(asked).toEqual([{ quick: false, creates: 2 }])
      expect(index("config.get")).toBeGreaterThan(index("agents.create"))
      expect(sim.state.config).toMatchObject({ agents: { entries: { [converted]: { heartbeat: { every: "10m", target: "none" } } } } })
    })
  )

  it.scopedLive("update of an agent deleted outside Switchyard: its entry is asked again once the apply has made the agent again", () =>
    Effect.gen(function* () {
      const { sim, run, target } = yield* harness()
      yield* run(applyAgent(applyInput()))
      yield* run(Effect.flatMap(GatewayClient, (client) => client.call(target, "agents.delete", { agentId: GATEWAY_AGENT_ID, deleteFiles: true })))
      const { asked, batcher } = recordingBatcher(sim, yield* run(AgentConfigBatcher))
      yield* run(applyAgent(applyInput({ action: "update" })).pipe(Effect.provideService(AgentConfigBatcher, batcher)))
      expect(asked).toEqual([
        { quick: true, creates: 1 },
        { quick: false, creates: 2 }
      ])
      expect(sim.state.config).toMatchObject({ agents: { entries: { [GATEWAY_AGENT_ID]: { heartbeat: { every: "10m", target: "none" } } } } })
    })
  )

  it.scopedLive("update of an agent that exists: its entry is asked once, from the start", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      yield* run(applyAgent(applyInput()))
      const { asked, batcher } = recordingBatcher(sim, yield* run(AgentConfigBatcher))
      yield* run(applyAgent(applyInput({ action: "update" })).pipe(Effect.provideService(AgentConfigBatcher, batcher)))
      expect(asked).toEqual([{ quick: true, creates: 1 }])
    })
  )

  it.scopedLive("resets the session only when asked", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      yield* run(applyAgent(applyInput()))
      expect(sim.countOf("sessions.reset")).toBe(0)
      yield* run(applyAgent(applyInput({ action: "update", resetSession: true })))
      expect(sim.calls.filter((call) => call.method === "sessions.reset").map((call) => call.params)).toEqual([{ key: SESSION_KEY }])
    })
  )

  it.scopedLive("is idempotent: a second provision finds the agent and leaves one on the gateway", () =>
    Effect.gen(function* () {
      const { sim, run, files } = yield* harness()
      yield* run(applyAgent(applyInput()))
      const created = sim.state.agents.get(GATEWAY_AGENT_ID)?.createdAt
      const again = yield* run(applyAgent(applyInput()))
      expect([...sim.state.agents.keys()].sort()).toEqual(["main", GATEWAY_AGENT_ID].sort())
      // The same agent, updated in place rather than deleted and re-created.
      expect(sim.state.agents.get(GATEWAY_AGENT_ID)?.createdAt).toBe(created)
      expect(sim.countOf("config.patch")).toBe(1)
      expect(hashAgentToken(tokenIn(files().get("AGENTS.md")))).toBe(again.tokenHash)
    })
  )

  it.scopedLive("retries a socket closed with 1012 in the middle of the file writes", () =>
    Effect.gen(function* () {
      const { sim, run, files, written } = yield* harness()
      sim.inject({ method: "agents.files.set", closeWith: 1012 })
      const output = yield* run(applyAgent(applyInput()))
      expect(sim.connectionsOpened).toBe(2)
      // The writes in flight on the closed socket were sent again (each at most once more); every file landed.
      const counts = new Map<string, number>()
      for (const name of written()) counts.set(name, (counts.get(name) ?? 0) + 1)
      expect(written().length).toBeGreaterThan(counts.size)
      for (const [name, times] of counts) expect(times, name).toBeLessThanOrEqual(2)
      expect(written()).toEqual(expect.arrayContaining(PROVISIONED))
      expect(hashAgentToken(tokenIn(files().get("AGENTS.md")))).toBe(output.tokenHash)
    })
  )

  it.scopedLive("writes the workspace files in flight together: one unanswered write does not hold back the others", () =>
    Effect.gen(function* () {
      const { sim, run, written } = yield* harness()
      const nameOf = (params: unknown) => (params as { name: string }).name
      sim.inject({ method: "agents.files.set", hang: true, when: (params) => nameOf(params) === "AGENTS.md" })
      const started = Date.now()
      const exit = yield* Effect.exit(run(applyAgent(applyInput())))
      // The other files reached the gateway while AGENTS.md went unanswered.
      expect(written()).toEqual(expect.arrayContaining(PROVISIONED))
      expect(Date.now() - started).toBeLessThan(4_000)
      expect(Exit.isFailure(exit) && toStepError("apply", exit.cause, 0)).toMatchObject({
        tag: "GatewayTimeoutError",
        message: "agents.files.set: no answer within 2000 ms",
        transient: true
      })
    })
  )

  it.scopedLive("an unsupported file is skipped on its own; the other files are written and the apply succeeds", () =>
    Effect.gen(function* () {
      const { sim, run, files, written } = yield* harness()
      sim.inject({
        method: "agents.files.set",
        error: { code: "INVALID_REQUEST", message: 'unsupported file "SOUL.md"' },
        when: (params) => (params as { name: string }).name === "SOUL.md"
      })
      const output = yield* run(applyAgent(applyInput()))
      expect(written()).toEqual(expect.arrayContaining(PROVISIONED))
      expect(files().get("MEMORY.md")).toMatch(/^# MEMORY\.md: Ada/)
      expect(files().get("IDENTITY.md")).toContain("Ada")
      expect(hashAgentToken(tokenIn(files().get("AGENTS.md")))).toBe(output.tokenHash)
    })
  )

  it.scopedLive("the first refused file write fails the apply with its typed error", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      sim.inject({
        method: "agents.files.set",
        error: { code: "INVALID_REQUEST", message: "invalid agents.files.set params: at /content: must be string" },
        when: (params) => (params as { name: string }).name === "IDENTITY.md"
      })
      const error = yield* Effect.flip(run(applyAgent(applyInput())))
      expect(error).toBeInstanceOf(GatewayRpcError)
      expect(error).toMatchObject({ method: "agents.files.set", kind: "invalid_request" })
      expect(sim.countOf("sessions.reset")).toBe(0)
    })
  )

  it.scopedLive("retries an UNAVAILABLE retryable:true answer to agents.files.set", () =>
    Effect.gen(function* () {
      const { sim, run, written } = yield* harness()
      sim.inject({ method: "agents.files.set", error: { code: "UNAVAILABLE", message: "gateway busy", retryable: true } })
      yield* run(applyAgent(applyInput()))
      expect(written()).toHaveLength(new Set(written()).size + 1)
      expect(written()).toEqual(expect.arrayContaining(PROVISIONED))
      expect(sim.connectionsOpened).toBe(1)
    })
  )

  it.scopedLive("fails at once on a terminal refusal, which toStepError marks non-transient", () =>
    Effect.gen(function* () {
      const { sim, store, run } = yield* harness()
      sim.inject({ method: "agents.create", error: { code: "INVALID_REQUEST", message: "invalid agents.create params: at root: unexpected property 'bogus'" } })
      const error = yield* Effect.flip(run(applyAgent(applyInput())))
      expect(error).toBeInstanceOf(GatewayRpcError)
      expect(error).toMatchObject({ method: "agents.create", kind: "invalid_request" })
      expect(sim.countOf("agents.create")).toBe(1)
      expect(sim.countOf("agents.files.set")).toBe(0)
      expect(store.staged).toHaveLength(0)
      const stepError = toStepError("apply", Cause.fail(error), 1_234)
      expect(stepError).toMatchObject({ tag: "GatewayRpcError", transient: false, step: "apply", at: 1_234 })
      expect(stepError.message).toContain("agents.create")
    })
  )

  it.scopedLive("re-reads the config and re-applies the heartbeat after a config_conflict", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      sim.inject({ method: "config.patch", error: { code: "INVALID_REQUEST", message: "config changed since last load; re-run config.get and retry" } })
      yield* run(applyAgent(applyInput()))
      expect(sim.countOf("config.get")).toBe(2)
      expect(sim.countOf("config.patch")).toBe(2)
      expect(sim.state.config).toMatchObject({ agents: { entries: { [GATEWAY_AGENT_ID]: { heartbeat: { every: "10m", target: "none" } } } } })
    })
  )

  it.scopedLive("fails with a terminal GatewayNotFound when the gateway row is gone", () =>
    Effect.gen(function* () {
      const { sim, store, run } = yield* harness()
      store.gateways.clear()
      const failures = [
        yield* Effect.flip(run(applyAgent(applyInput()))),
        yield* Effect.flip(run(wakeAgent(wakeInput(1, 1)))),
        yield* Effect.flip(run(removeAgent(identity)))
      ]
      for (const error of failures) {
        expect(error).toBeInstanceOf(GatewayNotFound)
        expect(error).toMatchObject({ gatewayId: "gw-1" })
        expect(toStepError("apply", Cause.fail(error), 0)).toMatchObject({ tag: "GatewayNotFound", transient: false })
      }
      expect(sim.calls).toHaveLength(0)
    })
  )
})

describe("ensureGatewayAgent", () => {
  it.scopedLive("tolerates agent_exists for an agent created but not yet visible, then waits for it", () =>
    Effect.gen(function* () {
      const { sim, run, target } = yield* harness({ agentReadyDelayMs: 300 })
      const workspace = `${WORKSPACE_ROOT}/workspace-${GATEWAY_AGENT_ID}`
      yield* run(Effect.flatMap(GatewayClient, (client) => client.call(target, "agents.create", { name: GATEWAY_AGENT_ID, workspace })))
      const { files } = yield* run(ensureGatewayAgent(target, { gatewayAgentId: GATEWAY_AGENT_ID, workspace }))
      expect(sim.countOf("agents.create")).toBe(2)
      expect(files.map((file) => file.name)).toContain("AGENTS.md")
      expect(yield* listedName(run, target)).toBe(GATEWAY_AGENT_ID)
    })
  )

  // Right after agents.delete the gateway still lists the agent (agentReadyDelayMs here, ~1.5 s
  // on the real one) while agents.files.* already answer "not found", so a program that skipped
  // agents.create for a listed agent would wait for an agent that will never appear.
  it.scopedLive("re-creates an agent id deleted moments ago (e.g. a board's replaced lead)", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness({ agentReadyDelayMs: 300 })
      yield* run(applyAgent(applyInput()))
      yield* run(removeAgent(identity))
      const again = yield* run(applyAgent(applyInput())).pipe(Effect.timeout("3 seconds"))
      expect(sim.state.agents.has(GATEWAY_AGENT_ID)).toBe(true)
      expect(hashAgentToken(tokenIn(sim.state.files.get(GATEWAY_AGENT_ID)?.get("AGENTS.md")))).toBe(again.tokenHash)
    }),
    10_000
  )
  it.scopedLive("asks an agent that most likely exists for its files beside agents.create, not after its answer", () =>
    Effect.gen(function* () {
      const { sim, run, target } = yield* harness()
      yield* run(applyAgent(applyInput()))
      const workspace = `${WORKSPACE_ROOT}/workspace-${GATEWAY_AGENT_ID}`
      const from = sim.calls.length
      // agents.create never answers: only a list sent beside it reaches the gateway.
      sim.inject({ method: "agents.create", hang: true })
      const exit = yield* Effect.exit(run(ensureGatewayAgent(target, { gatewayAgentId: GATEWAY_AGENT_ID, workspace, likelyExists: true })))
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe((failure) => failure._tag === "Some" && failure.value._tag)).toBe("GatewayTimeoutError")
      expect(sim.calls.slice(from).map((call) => call.method)).toEqual(["agents.create", "agents.files.list"])
    })
  )

  it.scopedLive("fails at once when that create fails and the agent is gone: the list beside it is not retried", () =>
    Effect.gen(function* () {
      const { sim, run, target } = yield* harness()
      const gone = "mc-gone-agent"
      const from = sim.calls.length
      sim.inject({ method: "agents.create", error: { code: "INVALID_REQUEST", message: "workspace refused" } })
      const exit = yield* Effect.exit(run(ensureGatewayAgent(target, { gatewayAgentId: gone, workspace: `${WORKSPACE_ROOT}/workspace-${gone}`, likelyExists: true })))
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe((failure) => failure._tag === "Some" && failure.value._tag)).toBe("GatewayRpcError")
      expect(sim.calls.slice(from).map((call) => call.method)).toEqual(["agents.create", "agents.files.list"])
    })
  )
})

describe("wakeAgent", () => {
  /** The gateway refuses chat.send into the session of an agent it does not know. */
  const withAgent = (options: SimulatorOptions = {}) =>
    Effect.gen(function* () {
      const h = yield* harness(options)
      const workspace = `${WORKSPACE_ROOT}/workspace-${GATEWAY_AGENT_ID}`
      yield* h.run(Effect.flatMap(GatewayClient, (client) => client.call(h.target, "agents.create", { name: GATEWAY_AGENT_ID, workspace })))
      return h
    })
  const userMessages = (sim: GatewaySimulator) =>
    (sim.state.chat.get(SESSION_KEY) ?? []).filter((message) => message.role === "user")

  it.scopedLive("sends one wake per generation and attempt, keyed wake-<agentId>-<generation>-<attempt>", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* withAgent()
      yield* run(wakeAgent(wakeInput(3, 1)))
      expect(sim.calls.find((call) => call.method === "chat.send")?.params).toEqual({
        sessionKey: SESSION_KEY,
        message: wakeMessage("Ada", "provision"),
        deliver: true,
        idempotencyKey: `wake-${AGENT_ID}-3-1`
      })
      // A re-run (restore, retry) is answered in_flight: still one message in the session.
      yield* run(wakeAgent(wakeInput(3, 1)))
      expect(sim.countOf("chat.send")).toBe(2)
      expect(userMessages(sim)).toHaveLength(1)
      expect(userMessages(sim)[0]).toMatchObject({ content: wakeMessage("Ada", "provision"), idempotencyKey: `wake-${AGENT_ID}-3-1:user` })
      // The next attempt is a new message.
      yield* run(wakeAgent(wakeInput(3, 2)))
      expect(userMessages(sim).map((message) => message.idempotencyKey)).toEqual([`wake-${AGENT_ID}-3-1:user`, `wake-${AGENT_ID}-3-2:user`])
    })
  )

  it.scopedLive("retries a wake cut by a 1012 close with the same key, delivering one message", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* withAgent()
      sim.inject({ method: "chat.send", closeWith: 1012 })
      yield* run(wakeAgent(wakeInput(1, 1)))
      const keys = sim.calls.filter((call) => call.method === "chat.send").map((call) => (call.params as { idempotencyKey: string }).idempotencyKey)
      expect(keys).toEqual([`wake-${AGENT_ID}-1-1`, `wake-${AGENT_ID}-1-1`])
      expect(userMessages(sim)).toHaveLength(1)
    })
  )

  it.scopedLive("fails terminally when the gateway no longer knows the agent", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      const error = yield* Effect.flip(run(wakeAgent(wakeInput(1, 1))))
      expect(error).toMatchObject({ _tag: "GatewayRpcError", method: "chat.send", kind: "invalid_request" })
      expect(toStepError("wake", Cause.fail(error), 0)).toMatchObject({ tag: "GatewayRpcError", transient: false, step: "wake" })
      expect(sim.countOf("chat.send")).toBe(1)
    })
  )
})

describe("fakeRepos", () => {
  it.effect("dies, naming the member, on anything a program should not use", () =>
    Effect.gen(function* () {
      const { layer } = makeFakeRepos()
      const called = yield* Effect.flatMap(AgentRepo, (repo) => repo.save("a", {} as never, null, 1)).pipe(Effect.provide(layer), Effect.exit)
      const ran = yield* Effect.flatMap(AgentRepo, (repo) => repo.live).pipe(Effect.provide(layer), Effect.exit)
      expect(String(called)).toContain("AgentRepo.save is not stubbed")
      expect(String(ran)).toContain("AgentRepo.live is not stubbed")
      expect(Exit.isFailure(called) && Cause.isDie(called.cause)).toBe(true)
    })
  )
})

describe("applyAgent token recovery (rotateToken: false)", () => {
  it.scopedLive("keeps the token in AGENTS.md when it matches the stored hash, and stages nothing", () =>
    Effect.gen(function* () {
      const { run, files, store } = yield* harness()
      const first = yield* run(applyAgent(applyInput()))
      expect(first.tokenSource).toBe("minted")
      const token = tokenIn(files().get("AGENTS.md"))
      const staged = store.staged.length
      const again = yield* run(applyAgent(applyInput({ action: "update", rotateToken: false }, first.tokenHash)))
      expect(again).toEqual({ tokenHash: first.tokenHash, tokenSource: "recovered", effectiveHeartbeat: { enabled: true, every: "10m", everyMs: 600_000 } })
      expect(tokenIn(files().get("AGENTS.md"))).toBe(token)
      expect(store.staged).toHaveLength(staged)
    })
  )

  it.scopedLive("mints a new token when the workspace holds another one, and says so", () =>
    Effect.gen(function* () {
      const { run, files } = yield* harness()
      yield* run(applyAgent(applyInput()))
      const again = yield* run(applyAgent(applyInput({ action: "update", rotateToken: false }, "0".repeat(64))))
      expect(again.tokenSource).toBe("mismatch")
      expect(hashAgentToken(tokenIn(files().get("AGENTS.md")))).toBe(again.tokenHash)
    })
  )

  it.scopedLive("mints a new token when AGENTS.md carries none", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      const first = yield* run(applyAgent(applyInput()))
      sim.state.files.get(GATEWAY_AGENT_ID)?.set("AGENTS.md", "# edited by hand, no token here\n")
      const again = yield* run(applyAgent(applyInput({ action: "update", rotateToken: false }, first.tokenHash)))
      expect(again.tokenSource).toBe("missing")
      expect(again.tokenHash).not.toBe(first.tokenHash)
    })
  )

  it.scopedLive("rotates when asked, whatever the workspace holds", () =>
    Effect.gen(function* () {
      const { run } = yield* harness()
      const first = yield* run(applyAgent(applyInput()))
      const again = yield* run(applyAgent(applyInput({ action: "update", rotateToken: true }, first.tokenHash)))
      expect(again.tokenSource).toBe("minted")
      expect(again.tokenHash).not.toBe(first.tokenHash)
    })
  )
})

describe("removeAgent", () => {
  it.scopedLive("deletes the agent with its files and tolerates an agent already gone", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      yield* run(applyAgent(applyInput()))
      expect(sim.state.agents.has(GATEWAY_AGENT_ID)).toBe(true)
      expect(yield* run(removeAgent(identity))).toBeNull()
      expect(sim.calls.find((call) => call.method === "agents.delete")?.params).toEqual({ agentId: GATEWAY_AGENT_ID, deleteFiles: true })
      expect(sim.state.agents.has(GATEWAY_AGENT_ID)).toBe(false)
      expect(sim.state.files.has(GATEWAY_AGENT_ID)).toBe(false)
      // Re-run: agents.delete answers "not found", the main-session delete is refused; both are fine.
      expect(yield* run(removeAgent(identity))).toBeNull()
      expect(sim.countOf("agents.delete")).toBe(2)
      expect(sim.countOf("sessions.delete")).toBe(2)
    })
  )

  it.scopedLive("releases the agent's tasks and asks the gateway-main agent, once, to remove the workspace", () =>
    Effect.gen(function* () {
      const { sim, store, run, target } = yield* harness()
      yield* run(Effect.flatMap(GatewayClient, (client) => client.call(target, "agents.create", { name: "mc-gateway-gw-1", workspace: "/srv/gw/main" })))
      yield* run(applyAgent(applyInput()))
      yield* run(removeAgent(identity))
      expect(store.released).toEqual([AGENT_ID])
      // No main agent on this gateway yet: nobody to ask.
      expect(sim.countOf("chat.send")).toBe(0)

      store.mains.set("gw-1", { id: "main-agent", sessionKey: "agent:mc-gateway-gw-1:main" })
      yield* run(removeAgent(identity))
      yield* run(removeAgent(identity))
      const asks = sim.calls.filter((call) => call.method === "chat.send").map((call) => call.params as { sessionKey: string; message: string; idempotencyKey: string })
      expect(asks).toHaveLength(2)
      expect(new Set(asks.map((ask) => ask.idempotencyKey))).toEqual(new Set([`cleanup-${AGENT_ID}`]))
      expect(asks[0]).toMatchObject({ sessionKey: "agent:mc-gateway-gw-1:main", message: expect.stringContaining(`workspace-${GATEWAY_AGENT_ID}`) })
      expect(sim.state.chat.get("agent:mc-gateway-gw-1:main")?.filter((row) => row.role === "user")).toHaveLength(1)
    })
  )

  it.scopedLive("still fails on a terminal refusal of agents.delete", () =>
    Effect.gen(function* () {
      const { sim, run } = yield* harness()
      sim.inject({ method: "agents.delete", error: { code: "FORBIDDEN", message: "missing scope: operator.admin", details: { code: "MISSING_SCOPE" } } })
      const error = yield* Effect.flip(run(removeAgent(identity)))
      expect(error).toMatchObject({ _tag: "GatewayRpcError", kind: "missing_scope" })
      expect(toStepError("remove", Cause.fail(error), 0)).toMatchObject({ tag: "GatewayRpcError", transient: false, step: "remove" })
      expect(sim.countOf("agents.delete")).toBe(1)
    })
  )
})
