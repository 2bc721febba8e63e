import { randomUUID } from "node:crypto"
import { Sharding } from "@effect/cluster"
import { Effect, Layer, ManagedRuntime } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { AgentsRestoring, AgentSystem, type AgentSystemShape } from "../../src/agents/AgentSystem.ts"
import { LocalAgents, type LocalAgentsShape } from "../../src/agents/LocalAgents.ts"
import { GatewayOwnership, type GatewayOwnershipShape } from "../../src/cluster/GatewayOwnership.ts"
import { OwnerNudgesLive } from "../../src/cluster/OwnerNudges.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { BoardRepo, type BoardRepoShape } from "../../src/store/BoardRepo.ts"
import type { SyncJobOptions } from "../../src/store/SyncJobRepo.ts"
import { SyncJobs, SyncJobsLive } from "../../src/sync/SyncJobs.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"
import { GATEWAY_ID, makeFakeFleet, type FakeFleet, type FleetAgent } from "./fakeFleet.ts"
import { makeMemorySyncJobRepo, pendingRow, runningJob } from "./memorySyncJobRepo.ts"

const BOARD = "00000000-0000-4000-8000-0000000000a1"
const DEFAULTS: SyncJobOptions = { includeMain: false, leadOnly: false, resetSessions: false, rotateTokens: false, forceBootstrap: false, overwrite: false, boardId: null }

let stops: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const stop of stops.reverse()) await stop()
  stops = []
})

/**
 * The fleet as a runner sees it that owns the gateway but has not restored its agents yet (a
 * takeover or a start): no actor here, and a wait or send answers `AgentsRestoring`, until
 * `restore` (then the gateway is hosted here too).
 */
const notYetRestored = (fleet: FakeFleet) => {
  const state = { restored: false }
  const restoring = (agentId: string) => Effect.fail(new AgentsRestoring({ agentId, reason: "restoring" }))
  const system: AgentSystemShape = {
    ...fleet.system,
    send: (agentId, event) => (state.restored ? fleet.system.send(agentId, event) : restoring(agentId)),
    waitFor: (agentId, predicate, timeoutMs, options) => (state.restored ? fleet.system.waitFor(agentId, predicate, timeoutMs, options) : restoring(agentId)),
    snapshot: (agentId) => (state.restored ? fleet.system.snapshot(agentId) : undefined),
    requireActor: (agentId) => (state.restored ? fleet.system.requireActor(agentId) : restoring(agentId))
  }
  const local = dieOnUnstubbed<LocalAgentsShape>("LocalAgents", { hosts: (gatewayId) => state.restored && gatewayId === GATEWAY_ID })
  return { state, system, local, restore: () => void (state.restored = true) }
}

/** A job an earlier owner planned and left running, with every agent pending and nothing sent. */
const leftRunning = (agents: ReadonlyArray<FleetAgent>) => {
  const job = runningJob(randomUUID(), agents.length)
  return { job, rows: agents.map((agent, position) => pendingRow(job.id, agent, position)) }
}

/**
 * `SyncJobsLive` on a runner that owns the fleet's gateway but has not restored its agents yet
 * (`restore` ends that), with `seeded` jobs left by an earlier owner. `passes` counts adoption
 * passes: each asks for the set of shards first (`makeAdoptionReads.due`).
 */
const runnerOf = async (seeded?: ReturnType<typeof leftRunning>, shardsKey: () => string = () => "default:1-300") => {
  const fleet = makeFakeFleet({ applyMs: 5 })
  fleet.boards.set(BOARD, { paused: false })
  stops.push(() => fleet.stop())
  const agents = Array.from({ length: 3 }, (_, i): FleetAgent => ({ id: randomUUID(), name: `w${i}`, boardId: BOARD, role: "worker" }))
  for (const agent of agents) await fleet.addOnline(agent)
  const memory = makeMemorySyncJobRepo(fleet.candidates)
  const runner = notYetRestored(fleet)
  const passes = { count: 0 }
  const ownership = dieOnUnstubbed<GatewayOwnershipShape>("GatewayOwnership", {
    owns: (gatewayId) => gatewayId === GATEWAY_ID,
    ownedShardsKey: () => (passes.count++, shardsKey())
  })
  const layer = SyncJobsLive.pipe(
    Layer.provide(
      Layer.mergeAll(
        fleet.layer,
        Layer.succeed(AgentSystem, runner.system),
        Layer.succeed(LocalAgents, runner.local),
        Layer.succeed(GatewayOwnership, ownership),
        Layer.succeed(Sharding.Sharding, dieOnUnstubbed<Sharding.Sharding["Type"]>("Sharding", {})),
        Layer.succeed(BoardRepo, dieOnUnstubbed<BoardRepoShape>("BoardRepo", {})),
        OwnerNudgesLive,
        memory.layer,
        AppConfigTest({ syncConcurrency: 2, syncAgentTimeoutMs: 5_000, retryBaseMs: 10 })
      )
    )
  )
  return { fleet, agents, memory, runner, passes, layer }
}

/**
 * Seeds a job left running over `agents` (see `leftRunning`) and starts `SyncJobsLive` on
 * `layer` (its runtime disposed after the test), whose passes then adopt the job; the job.
 */
const adoptLeftRunning = async ({ agents, memory, layer }: Pick<Awaited<ReturnType<typeof runnerOf>>, "agents" | "memory" | "layer">) => {
  const { job, rows } = leftRunning(agents)
  memory.seed(job, rows)
  const runtime = ManagedRuntime.make(layer)
  stops.push(() => runtime.dispose())
  await runtime.runPromise(Effect.void)
  return job
}

describe("template-sync job adoption (docs/architecture.md §9.2)", () => {
  it("a job resumed on a runner whose gateway's agents are not restored yet marks no agent failed; once they are, it resumes and completes", async () => {
    const { fleet, agents, memory, runner, passes, layer } = await runnerOf()
    const before = fleet.applies.length
    const job = await adoptLeftRunning({ agents, memory, layer })

    // Three passes (two seconds) with the agents not restored: the job waits, untouched.
    await expect.poll(() => passes.count, { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(3)
    expect(memory.agents.get(job.id)!.map((row) => row.status)).toEqual(["pending", "pending", "pending"])
    expect(memory.jobs.get(job.id)).toMatchObject({ status: "running", failedCount: 0, updatedCount: 0 })
    expect(memory.sent).toEqual([])

    runner.restore()
    // Resumed by the next pass (within a second or two), not by the 30 s read.
    await expect.poll(() => memory.jobs.get(job.id)!.status, { timeout: 5_000, interval: 50 }).toBe("done")
    expect(memory.jobs.get(job.id)).toMatchObject({ updatedCount: 3, failedCount: 0 })
    expect(memory.agents.get(job.id)!.map((row) => row.status)).toEqual(["updated", "updated", "updated"])
    expect(fleet.applies.slice(before).map((call) => call.agentId).sort()).toEqual(agents.map((agent) => agent.id).sort())
  })

  it("a job started on a runner whose gateway's agents are not restored yet stays queued; once they are, it runs and completes", async () => {
    const { agents, memory, runner, passes, layer } = await runnerOf()
    const runtime = ManagedRuntime.make(layer)
    stops.push(() => runtime.dispose())
    const job = await runtime.runPromise(Effect.flatMap(SyncJobs, (jobs) => jobs.start(GATEWAY_ID, DEFAULTS)))

    const after = passes.count
    await expect.poll(() => passes.count, { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(after + 2)
    expect(memory.jobs.get(job.id)).toMatchObject({ status: "queued", planned: false, failedCount: 0 })

    runner.restore()
    await expect.poll(() => memory.jobs.get(job.id)!.status, { timeout: 5_000, interval: 50 }).toBe("done")
    expect(memory.jobs.get(job.id)).toMatchObject({ totalCount: agents.length, updatedCount: agents.length, failedCount: 0 })
  })

  it("a job waiting for its gateway to be hosted is not read again every pass; it starts at the first pass after the gateway is hosted", async () => {
    const { agents, memory, runner, passes, layer } = await runnerOf()
    const job = await adoptLeftRunning({ agents, memory, layer })

    // The first pass reads the jobs and leaves this one; the next passes look again without a read.
    await expect.poll(() => passes.count, { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(2)
    const readsThen = memory.reads.unfinished
    expect(readsThen).toBeGreaterThanOrEqual(1)
    const passesThen = passes.count
    await expect.poll(() => passes.count, { timeout: 6_000, interval: 50 }).toBeGreaterThanOrEqual(passesThen + 3)
    expect(memory.reads.unfinished).toBe(readsThen)
    expect(memory.jobs.get(job.id)).toMatchObject({ status: "running", updatedCount: 0, failedCount: 0 })

    // Hosted: the next pass (a second) starts it, with no read of the jobs.
    runner.restore()
    await expect.poll(() => memory.sent.length, { timeout: 2_500, interval: 20 }).toBeGreaterThan(0)
    await expect.poll(() => memory.jobs.get(job.id)!.status, { timeout: 5_000, interval: 50 }).toBe("done")
    expect(memory.reads.unfinished).toBe(readsThen)
  })

  it("a failing read of the jobs never holds back a job already waiting: it starts once its gateway is hosted", async () => {
    // The set of shards changes on every pass while `moving`: every pass is due to read the jobs.
    let moving = false
    let key = 0
    const { agents, memory, runner, passes, layer } = await runnerOf(undefined, () => (moving ? `default:${++key}` : "default:1-300"))
    const job = await adoptLeftRunning({ agents, memory, layer })
    await expect.poll(() => memory.reads.unfinished, { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(1)

    // The database goes away: every pass reads the jobs, and every read fails.
    memory.failing.unfinished = true
    moving = true
    const passesThen = passes.count
    await expect.poll(() => passes.count, { timeout: 6_000, interval: 50 }).toBeGreaterThanOrEqual(passesThen + 2)
    runner.restore()
    await expect.poll(() => memory.jobs.get(job.id)!.status, { timeout: 6_000, interval: 50 }).toBe("done")
  })
})
