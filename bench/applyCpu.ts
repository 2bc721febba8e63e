/**
 * The CPU an apply costs, in-process: the live gateway client against the simulator (5 ms
 * latency, in this process too), `AgentConfigBatcher` and the in-memory repos of the program
 * tests. Provisions `places` agents, then re-applies them as a template sync does (action
 * "update", seeded workspace), `places` at a time, `rounds` × `places` applies in all, and prints
 * the process's CPU (user + system, simulator included) per apply and the wall time. For an A/B
 * of the apply's own overhead (docs/architecture.md §5.6): run it in both checkouts, alternated.
 *
 *   tsx bench/applyCpu.ts [rounds=100] [places=8]
 */
import { Effect, Layer } from "effect"
import type { ApplyInput } from "../machines/agent/agentTypes.ts"
import { AgentConfigBatcherLive } from "../src/agents/AgentConfigBatcher.ts"
import { applyAgent } from "../src/agents/programs/applyAgent.ts"
import { AppConfigTest } from "../src/config/AppConfig.ts"
import { GatewayClientLive } from "../src/gateway/GatewayClient.ts"
import { makeFakeRepos, makeGatewayRecord, makeGoalBoard } from "../test/agents/fakeRepos.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"

const rounds = Number(process.argv[2] ?? 100)
const places = Number(process.argv[3] ?? 8)

const input = (index: number, action: "provision" | "update"): ApplyInput => {
  const agentId = `7b0c0a4e-0000-4000-8000-${String(index).padStart(12, "0")}`
  const gatewayAgentId = `mc-${agentId}`
  return {
    agentId,
    gatewayId: "gw-1",
    boardId: "b1",
    role: "worker",
    gatewayAgentId,
    sessionKey: `agent:${gatewayAgentId}:main`,
    spec: { name: `Agent ${index}`, heartbeat: { every: "10m", target: "none" }, identityProfile: null, identityTemplate: null, soulTemplate: null },
    request: { action, resetSession: false, forceBootstrap: false, rotateToken: false },
    generation: action === "provision" ? 1 : 2,
    retired: null,
    workspaceSeeded: action === "update",
    tokenHash: null
  }
}

const main = Effect.gen(function* () {
  const sim = yield* Effect.acquireRelease(Effect.promise(() => startGatewaySimulator({ latencyMs: 5 })), (s) => Effect.promise(() => s.stop()))
  const { store, layer: repos } = makeFakeRepos()
  store.gateways.set("gw-1", makeGatewayRecord({ id: "gw-1", url: sim.url, token: sim.token, workspaceRoot: "/srv/gw/.openclaw" }))
  store.boards.set("b1", makeGoalBoard("gw-1", 1000))
  const context = yield* Layer.build(
    AgentConfigBatcherLive(20).pipe(
      Layer.provideMerge(Layer.mergeAll(AppConfigTest({ baseUrl: "http://switchyard.test:8000" }), repos, GatewayClientLive({ callTimeoutMs: 10_000, handshakeTimeoutMs: 5_000, clientVersion: "bench" })))
    )
  )
  const agents = Array.from({ length: places }, (_, index) => index)
  yield* Effect.forEach(agents, (index) => applyAgent(input(index, "provision")), { concurrency: places, discard: true }).pipe(Effect.provide(context))
  const measure = (count: number) =>
    Effect.gen(function* () {
      const cpu = process.cpuUsage()
      const started = performance.now()
      // Each place re-applies its agent, one after the other, as a sync's places do.
      yield* Effect.forEach(agents, (index) => Effect.forEach(Array.from({ length: count }), () => applyAgent(input(index, "update")), { discard: true }), {
        concurrency: places,
        discard: true
      }).pipe(Effect.provide(context))
      const used = process.cpuUsage(cpu)
      return { cpuMs: (used.user + used.system) / 1000 / (count * places), wallMs: performance.now() - started }
    })
  yield* measure(Math.max(1, Math.round(rounds / 5)))
  const figures = yield* measure(rounds)
  console.log(`${rounds * places} applies, ${places} at a time: ${figures.cpuMs.toFixed(2)} ms CPU per apply (simulator included), ${Math.round(figures.wallMs)} ms`)
})

Effect.runPromise(Effect.scoped(main)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
