import { randomUUID } from "node:crypto"
import { SqlError } from "@effect/sql/SqlError"
import { Chunk, Effect, Fiber, Layer, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { StepError } from "../../machines/agent/agentTypes.ts"
import { AppConfigTest, type AppConfigShape } from "../../src/config/AppConfig.ts"
import type { SyncJobOptions, SyncJobRow } from "../../src/store/SyncJobRepo.ts"
import { SyncJobRepo } from "../../src/store/SyncJobRepo.ts"
import { AgentSystem } from "../../src/agents/AgentSystem.ts"
import { runSyncJob } from "../../src/sync/runSyncJob.ts"
import { pastSettled, settledAt } from "../../src/sync/agentSettled.ts"
import { makeSyncJobFeed, type SyncJobEvent } from "../../src/sync/SyncJobFeed.ts"
import { syncJobReport } from "../../src/sync/syncJobReport.ts"
import { GATEWAY_ID, makeFakeFleet, type FakeFleet, type FleetAgent } from "./fakeFleet.ts"
import { makeMemorySyncJobRepo, pendingRow, runningJob } from "./memorySyncJobRepo.ts"

const BOARD_A = "00000000-0000-4000-8000-0000000000a1"
const BOARD_B = "00000000-0000-4000-8000-0000000000b1"
const BOARD_PAUSED = "00000000-0000-4000-8000-0000000000c1"

const DEFAULTS: SyncJobOptions = { includeMain: false, leadOnly: false, resetSessions: false, rotateTokens: false, forceBootstrap: false, overwrite: false, boardId: null }

const worker = (name: string, boardId: string | null = BOARD_A): FleetAgent => ({ id: randomUUID(), name, boardId, role: "worker" })

const transient: StepError = { tag: "GatewayConnectionError", message: "connection closed (1012): service restart", transient: true, step: "apply", at: 0 }
const terminal: StepError = { tag: "GatewayRpcError", message: "agents.files.set: INVALID_REQUEST invalid params", transient: false, step: "apply", at: 0 }

let fleets: Array<FakeFleet> = []
const fleetOf = (options: Parameters<typeof makeFakeFleet>[0] = {}) => {
  const fleet = makeFakeFleet(options)
  for (const board of [BOARD_A, BOARD_B]) fleet.boards.set(board, { paused: false })
  fleet.boards.set(BOARD_PAUSED, { paused: true })
  fleets.push(fleet)
  return fleet
}
afterEach(() => {
  for (const fleet of fleets) fleet.stop()
  fleets = []
})

/**
 * Runs one sync job over `fleet` to its end with the in-memory repository (or `seeded`, a job
 * a crashed run left) and collects its event stream from the start.
 */
const runJob = async (
  fleet: FakeFleet,
  options: Partial<SyncJobOptions> = {},
  config: Partial<AppConfigShape> = {},
  memory = makeMemorySyncJobRepo(fleet.candidates),
  seeded?: SyncJobRow
) => {
  const layer = Layer.mergeAll(fleet.layer, memory.layer, AppConfigTest({ syncConcurrency: 8, syncAgentTimeoutMs: 5_000, retryBaseMs: 10, ...config }))
  const started = Date.now()
  const events = await Effect.runPromise(
    Effect.gen(function* () {
      const repo = yield* SyncJobRepo
      const job = seeded ?? (yield* repo.insert({ id: randomUUID(), gatewayId: GATEWAY_ID, options: { ...DEFAULTS, ...options } }))
      const feed = yield* makeSyncJobFeed(job)
      const collecting = yield* Effect.fork(Stream.runCollect(feed.events))
      yield* Effect.yieldNow()
      yield* runSyncJob(job.id, feed)
      return Chunk.toArray(yield* Fiber.join(collecting))
    }).pipe(Effect.provide(layer))
  )
  const job = [...memory.jobs.values()].at(-1)!
  const report = syncJobReport(job, memory.agents.get(job.id) ?? [])
  const byName = (name: string) => report.agents.find((agent) => agent.agent_name === name)
  return { report, events, memory, byName, elapsedMs: Date.now() - started }
}

const appliesOf = (fleet: FakeFleet, agentId: string) => fleet.applies.filter((call) => call.agentId === agentId)

describe("runSyncJob (template sync over agent actors)", () => {
  it("sends every agent a forced update without a wake, the job's options, at most syncConcurrency at once", async () => {
    const fleet = fleetOf({ applyMs: 30 })
    const agents = Array.from({ length: 10 }, (_, i) => worker(`w${i}`))
    for (const agent of agents) await fleet.addOnline(agent)
    fleet.flight.max = 0
    const before = fleet.applies.length
    const wakes = fleet.wakes.length

    const { report, events } = await runJob(fleet, { resetSessions: true, forceBootstrap: true, overwrite: true }, { syncConcurrency: 3 })

    expect(fleet.flight.max).toBe(3)
    const sent = fleet.applies.slice(before)
    expect(sent.map((call) => call.agentId).sort()).toEqual(agents.map((agent) => agent.id).sort())
    for (const call of sent) {
      expect(call.request).toMatchObject({ action: "update", wake: false, resetSession: true, forceBootstrap: true, rotateToken: false, overwrite: true })
    }
    expect(fleet.wakes.length).toBe(wakes)
    for (const agent of agents) expect(fleet.state(agent.id)).toBe("online")
    expect(report).toMatchObject({ status: "done", agents_updated: 10, agents_skipped: 0, main_updated: false, errors: [] })
    expect(report.agents.every((agent) => agent.status === "updated" && agent.token_source === "recovered")).toBe(true)

    const types = events.map((event) => event.type)
    expect(types[0]).toBe("progress")
    expect(types.filter((type) => type === "agent")).toHaveLength(10)
    expect(types.at(-1)).toBe("done")
    const done = events.at(-1) as Extract<SyncJobEvent, { type: "done" }>
    expect(done.result.progress).toEqual({ total: 10, done: 10, updated: 10, skipped: 0, failed: 0 })
  })

  it("an agent settled in memory frees its place at once; its result is recorded only once its state is durable", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const [first, second] = [worker("w0"), worker("w1")]
    for (const agent of [first, second]) await fleet.addOnline(agent)
    // The state the sync's update produces (the next generation) is not saved until released.
    const release = fleet.holdSaves(first.id, fleet.snapshot(first.id)!.context.generation + 1)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const applied = (agentId: string) => appliesOf(fleet, agentId).some((call) => call.request.action === "update")
    const resultOf = (agentId: string) => [...memory.agents.values()].flat().find((row) => row.agentId === agentId)?.status

    const running = runJob(fleet, {}, { syncConcurrency: 1 }, memory)
    // One place: the second agent is updated while the first one's settled state is not yet saved…
    await expect.poll(() => applied(second.id), { timeout: 2_000 }).toBe(true)
    await expect.poll(() => fleet.state(second.id)).toBe("online")
    // …whose result waits for it.
    expect(fleet.state(first.id)).toBe("online")
    expect(resultOf(first.id)).toBe("pending")
    release()
    const { report } = await running

    expect(report).toMatchObject({ status: "done", agents_updated: 2, errors: [] })
    expect(resultOf(first.id)).toBe("updated")
  })

  it("a result waiting for its save is recorded once saved, even when a later update of the agent has begun meanwhile", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const [first, second] = [worker("w0"), worker("w1")]
    for (const agent of [first, second]) await fleet.addOnline(agent)
    const settled = fleet.snapshot(first.id)!.context.generation + 1
    const release = fleet.holdSaves(first.id, settled)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const resultOf = (agentId: string) => [...memory.agents.values()].flat().find((row) => row.agentId === agentId)?.status
    const running = runJob(fleet, {}, { syncConcurrency: 1, syncAgentTimeoutMs: 1_500 }, memory)
    const updated = (agentId: string) => appliesOf(fleet, agentId).some((call) => call.request.action === "update")
    await expect.poll(() => updated(second.id) && fleet.state(second.id) === "online", { timeout: 2_000 }).toBe(true)
    // An operator's update of the first agent begins (and hangs) before its settled state is saved.
    fleet.script.set(first.id, ["hang"])
    fleet.send(first.id, { type: "agent.update", at: Date.now(), changes: {}, force: true })
    await expect.poll(() => fleet.snapshot(first.id)!.context.generation).toBe(settled + 1)
    expect(resultOf(first.id)).toBe("pending")
    // What a result that starts waiting only now (its record stage full) waits for: past the settled state, no longer at it.
    expect(settledAt(settled)(fleet.snapshot(first.id)!)).toBe(false)
    expect(pastSettled(settled)(fleet.snapshot(first.id)!)).toBe(true)
    release()
    const { report } = await running

    // Not "timed out … in updating.applying": the settled state is durable once a later one is.
    expect(report).toMatchObject({ status: "done", agents_updated: 2, errors: [] })
    expect(resultOf(first.id)).toBe("updated")
  })

  it("an operator's update that overtakes the sync's apply is waited for: its outcome, not a working state, is recorded", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const agent = worker("w0")
    await fleet.addOnline(agent)
    const generation = fleet.snapshot(agent.id)!.context.generation
    fleet.script.set(agent.id, ["hang", terminal])
    const running = runJob(fleet, {}, { syncConcurrency: 1 })
    await expect.poll(() => fleet.snapshot(agent.id)!.context.generation, { timeout: 2_000 }).toBe(generation + 1)
    fleet.send(agent.id, { type: "agent.update", at: Date.now(), changes: {}, force: true })
    const { byName } = await running

    expect(byName("w0")).toMatchObject({ status: "error", message: "GatewayRpcError: agents.files.set: INVALID_REQUEST invalid params" })
    expect(fleet.state(agent.id)).toBe("updating.failed")
  })

  it("one agent's terminal failure or timeout never stops the others; each is recorded with its reason", async () => {
    const fleet = fleetOf({ applyMs: 10 })
    const agents = Array.from({ length: 6 }, (_, i) => worker(`w${i}`))
    for (const agent of agents) await fleet.addOnline(agent)
    fleet.script.set(agents[1]!.id, [terminal])
    fleet.script.set(agents[2]!.id, ["hang"])

    const { report, byName, elapsedMs } = await runJob(fleet, {}, { syncConcurrency: 2, syncAgentTimeoutMs: 300 })

    expect(report.status).toBe("done")
    expect(byName("w1")).toMatchObject({ status: "error", message: "GatewayRpcError: agents.files.set: INVALID_REQUEST invalid params" })
    expect(byName("w2")).toMatchObject({ status: "error", message: "timed out after 0.3 s in updating.applying" })
    for (const name of ["w0", "w3", "w4", "w5"]) expect(byName(name)?.status).toBe("updated")
    expect(report).toMatchObject({ agents_updated: 4, agents_skipped: 2 })
    expect(report.errors.map((error) => error.agent_name).sort()).toEqual(["w1", "w2"])
    // The failure stays visible on the agent itself.
    expect(fleet.state(agents[1]!.id)).toBe("updating.failed")
    expect(elapsedMs).toBeLessThan(3_000)
  })

  it("an agent whose update failed transiently is tried again after a backoff, up to 2 attempts", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const once = worker("once")
    const twice = worker("twice")
    for (const agent of [once, twice]) await fleet.addOnline(agent)
    fleet.script.set(once.id, [transient])
    fleet.script.set(twice.id, [transient, transient])
    const before = fleet.applies.length

    const { byName } = await runJob(fleet)

    expect(byName("once")).toMatchObject({ status: "updated", attempts: 2 })
    expect(byName("twice")).toMatchObject({ status: "error", attempts: 2, message: "GatewayConnectionError: connection closed (1012): service restart" })
    expect(fleet.applies.slice(before).filter((call) => call.agentId === twice.id)).toHaveLength(2)
  })

  it("an agent whose next attempt's backoff would outlast its limit ends at the limit, timed out", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const agent = worker("slow retry")
    await fleet.addOnline(agent)
    fleet.script.set(agent.id, [transient])

    // The backoff (retryBaseMs 5 s, jittered) is cut at the agent's 0.4 s limit.
    const { byName, elapsedMs } = await runJob(fleet, {}, { syncAgentTimeoutMs: 400, retryBaseMs: 5_000 })

    expect(byName("slow retry")).toMatchObject({ status: "error", message: "timed out after 0.4 s in updating.failed" })
    expect(elapsedMs).toBeLessThan(3_000)
  })

  describe("selection", () => {
    const fleetWithBoards = async () => {
      const fleet = fleetOf({ applyMs: 5 })
      const lead: FleetAgent = { id: randomUUID(), name: "lead A", boardId: BOARD_A, role: "lead" }
      const main: FleetAgent = { id: randomUUID(), name: "Fleet Gateway Agent", boardId: null, role: "main" }
      const agents = [lead, worker("worker A"), worker("worker B", BOARD_B), worker("worker paused", BOARD_PAUSED), main]
      for (const agent of agents) await fleet.addOnline(agent)
      return { fleet, main }
    }

    it("skips paused boards, and syncs the main agent last when include_main", async () => {
      const { fleet, main } = await fleetWithBoards()
      const before = fleet.applies.length
      const { report, byName } = await runJob(fleet, { includeMain: true }, { syncConcurrency: 8 })
      expect(byName("worker paused")).toMatchObject({ status: "skipped", message: "board paused" })
      expect(report).toMatchObject({ agents_updated: 3, agents_skipped: 1, main_updated: true, errors: [] })
      const order = fleet.applies.slice(before).map((call) => call.agentId)
      expect(order).toHaveLength(4)
      expect(order.at(-1)).toBe(main.id)
      expect(report.agents.at(-1)?.agent_id).toBe(main.id)
    })

    it("board_id keeps that board's agents, lead_only the leads; the main agent follows include_main", async () => {
      const { fleet } = await fleetWithBoards()
      const onBoard = await runJob(fleet, { boardId: BOARD_B, includeMain: true })
      expect(onBoard.report.agents.map((agent) => agent.agent_name)).toEqual(["worker B", "Fleet Gateway Agent"])
      const leads = await runJob(fleet, { leadOnly: true, includeMain: false })
      expect(leads.report.agents.map((agent) => agent.agent_name)).toEqual(["lead A"])
    })

    it("an agent whose board is gone is skipped and reported", async () => {
      const fleet = fleetOf({ applyMs: 5 })
      await fleet.addOnline(worker("orphan", "00000000-0000-4000-8000-0000000000d1"))
      const { report } = await runJob(fleet)
      expect(report.agents).toMatchObject([{ agent_name: "orphan", status: "skipped", message: "board not found for agent" }])
      expect(report.errors).toMatchObject([{ agent_name: "orphan", message: "board not found for agent" }])
    })
  })

  it("creates a missing main agent first and awaits its provisioning instead of sending it an update", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    await fleet.addOnline(worker("w0"))
    const { report } = await runJob(fleet, { includeMain: true })
    const main = report.agents.at(-1)!
    expect(main).toMatchObject({ agent_name: "Fleet Gateway Agent", status: "updated", token_source: "minted" })
    expect(appliesOf(fleet, main.agent_id).map((call) => call.request.action)).toEqual(["provision"])
    // Its provisioning kept its wake.
    expect(fleet.wakes).toContain(main.agent_id)
    expect(report.main_updated).toBe(true)
  })

  it("an agent still provisioning is awaited first, so its first wake is not lost, then updated", async () => {
    const fleet = fleetOf({ applyMs: 50 })
    const fresh = worker("fresh")
    fleet.add(fresh)
    const { byName } = await runJob(fleet)
    expect(byName("fresh")?.status).toBe("updated")
    expect(appliesOf(fleet, fresh.id).map((call) => call.request.action)).toEqual(["provision", "update"])
    expect(fleet.wakes.filter((id) => id === fresh.id)).toHaveLength(1)
  })

  it("an agent deleted while the job runs is recorded as skipped", async () => {
    const fleet = fleetOf({ applyMs: 30 })
    const agents = [worker("first"), worker("doomed")]
    for (const agent of agents) await fleet.addOnline(agent)
    const deleting = setTimeout(() => fleet.send(agents[1]!.id, { type: "agent.delete", at: Date.now() }), 10)
    const { byName } = await runJob(fleet, {}, { syncConcurrency: 1 })
    clearTimeout(deleting)
    expect(byName("first")?.status).toBe("updated")
    expect(byName("doomed")).toMatchObject({ status: "skipped", message: "agent deleted" })
  })

  it("reports a token that did not match its hash, or was missing, as a warning of an updated agent", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const [mismatch, missing] = [worker("mismatch"), worker("missing")]
    for (const agent of [mismatch, missing]) await fleet.addOnline(agent)
    fleet.tokenSources.set(mismatch.id, "mismatch")
    fleet.tokenSources.set(missing.id, "missing")
    const { report, byName } = await runJob(fleet)
    expect(byName("mismatch")).toMatchObject({ status: "updated", token_source: "mismatch" })
    expect(report.errors).toEqual([
      { agent_id: mismatch.id, agent_name: "mismatch", board_id: BOARD_A, message: "AUTH_TOKEN in AGENTS.md did not match the stored hash; a new token was written" },
      { agent_id: missing.id, agent_name: "missing", board_id: BOARD_A, message: "AUTH_TOKEN was missing from AGENTS.md; a new token was written" }
    ])
  })

  it("resumes a job: recorded agents are not redone, a sent update is awaited and not sent again", async () => {
    const fleet = fleetOf({ applyMs: 80 })
    const [done, sent, fresh] = [worker("done"), worker("sent"), worker("fresh")]
    for (const agent of [done, sent, fresh]) await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const jobId = randomUUID()
    // A crashed run had recorded `done`, and sent `sent` its update (generation g + 1, carrying the job), which is still applying.
    const generation = fleet.snapshot(sent.id)!.context.generation + 1
    fleet.send(sent.id, { type: "agent.update", at: Date.now(), changes: {}, force: true, options: { wake: false, rotateToken: false, syncJob: jobId } })
    expect(fleet.snapshot(sent.id)?.context.generation).toBe(generation)
    const job = runningJob(jobId, 3, 1)
    const row = (agent: FleetAgent, position: number) => pendingRow(job.id, agent, position)
    memory.seed(job, [
      { ...row(done, 0), status: "updated", tokenSource: "recovered", attempts: 1, sentGeneration: 2 },
      { ...row(sent, 1), sentGeneration: generation, attempts: 1 },
      row(fresh, 2)
    ])
    const before = fleet.applies.length

    const { report, events } = await runJob(fleet, {}, {}, memory, job)

    const after = fleet.applies.slice(before).map((call) => call.agentId)
    expect(after).toEqual([fresh.id])
    expect(fleet.snapshot(sent.id)?.context.generation).toBe(generation)
    expect(memory.sent.map((call) => call.agentId)).toEqual([fresh.id])
    expect(report).toMatchObject({ status: "done", agents_updated: 3, progress: { total: 3, done: 3, updated: 3, skipped: 0, failed: 0 } })
    expect(report.agents.map((agent) => [agent.agent_name, agent.status, agent.attempts])).toEqual([
      ["done", "updated", 1],
      ["sent", "updated", 1],
      ["fresh", "updated", 1]
    ])
    // A resumed job's stream starts from what was already recorded.
    expect(events[0]).toMatchObject({ type: "progress" })
    expect(events.filter((event) => event.type === "agent")).toHaveLength(2)
  })

  it("a resumed job on a runner that does not hold the agent's actor (yet) awaits the update the old owner sent, read where the actor runs, and does not send it again", async () => {
    const fleet = fleetOf({ applyMs: 80 })
    const agent = worker("adopted")
    await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const jobId = randomUUID()
    // The old owner stored and sent g + 1 (carrying the job) before the takeover; it is still applying.
    const generation = fleet.snapshot(agent.id)!.context.generation + 1
    fleet.send(agent.id, { type: "agent.update", at: Date.now(), changes: {}, force: true, options: { wake: false, rotateToken: false, syncJob: jobId } })
    // This runner has no local snapshot of the agent (its gateway's agents not restored here);
    // waits reach the actor where it runs.
    const adopting = { ...fleet, layer: Layer.merge(fleet.layer, Layer.succeed(AgentSystem, { ...fleet.system, snapshot: () => undefined })) }
    const job = runningJob(jobId, 1)
    memory.seed(job, [
      { ...pendingRow(jobId, agent, 0), sentGeneration: generation, attempts: 1 }
    ])
    const before = fleet.applies.length
    const { byName } = await runJob(adopting, {}, {}, memory, job)
    expect(fleet.applies.length).toBe(before)
    expect(memory.sent).toEqual([])
    expect(fleet.snapshot(agent.id)?.context.generation).toBe(generation)
    expect(byName("adopted")).toMatchObject({ status: "updated", attempts: 1 })
  })

  it("a resumed job whose stored generation another update reached (not its own) sends its update", async () => {
    const fleet = fleetOf({ applyMs: 20 })
    const agent = worker("overtaken")
    await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const jobId = randomUUID()
    // The crashed run stored g + 1 ahead of its turn; an operator's update (no job) reached g + 1 before the crash.
    const generation = fleet.snapshot(agent.id)!.context.generation + 1
    fleet.send(agent.id, { type: "agent.update", at: Date.now(), changes: {}, force: true, options: { wake: false } })
    const job: SyncJobRow = { ...runningJob(jobId, 1), options: { ...DEFAULTS, overwrite: true } }
    memory.seed(job, [
      { ...pendingRow(jobId, agent, 0), sentGeneration: generation, attempts: 1 }
    ])
    const before = fleet.applies.length
    const { report } = await runJob(fleet, {}, {}, memory, job)
    // The job's own update (its overwrite) went out after all.
    expect(fleet.applies.slice(before).at(-1)?.request).toMatchObject({ overwrite: true, syncJob: jobId })
    expect(report).toMatchObject({ status: "done", progress: { updated: 1 } })
  })

  it("a resumed job whose stored generation other updates passed (generation > stored, never its own) sends its update", async () => {
    const fleet = fleetOf({ applyMs: 20 })
    const agent = worker("passed")
    await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const jobId = randomUUID()
    // The crashed run stored g + 1 ahead of its turn; two operator updates (no job) reached g + 2 before the crash.
    const generation = fleet.snapshot(agent.id)!.context.generation + 1
    for (const name of ["first", "second"]) fleet.send(agent.id, { type: "agent.update", at: Date.now(), changes: { name }, options: { wake: false } })
    expect(fleet.snapshot(agent.id)?.context.generation).toBe(generation + 1)
    const job: SyncJobRow = { ...runningJob(jobId, 1), options: { ...DEFAULTS, overwrite: true } }
    memory.seed(job, [
      { ...pendingRow(jobId, agent, 0), sentGeneration: generation, attempts: 1 }
    ])
    const before = fleet.applies.length
    const { report } = await runJob(fleet, {}, {}, memory, job)
    // The job's own update (its overwrite) went out after all.
    expect(fleet.applies.slice(before).map((call) => call.request)).toMatchObject([{ overwrite: true, syncJob: jobId }])
    expect(report).toMatchObject({ status: "done", progress: { updated: 1 } })
  })

  it("a resumed job whose update was stored ahead but never sent sends it as the stored attempt: a transient failure still gets its retry", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const agent = worker("stored")
    await fleet.addOnline(agent)
    fleet.script.set(agent.id, [transient])
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const jobId = randomUUID()
    // The crashed run stored g + 1 (attempt 1) ahead of the agent's turn and never sent it.
    const generation = fleet.snapshot(agent.id)!.context.generation + 1
    const job = runningJob(jobId, 1)
    memory.seed(job, [
      { ...pendingRow(jobId, agent, 0), sentGeneration: generation, attempts: 1 }
    ])
    const before = fleet.applies.length
    const { byName } = await runJob(fleet, {}, {}, memory, job)
    expect(fleet.applies.slice(before).map((call) => call.generation)).toEqual([generation, generation + 1])
    expect(memory.sent.map((call) => [call.generation, call.attempts])).toEqual([
      [generation, 1],
      [generation + 1, 2]
    ])
    expect(byName("stored")).toMatchObject({ status: "updated", attempts: 2 })
  })

  it("stores the next agents' generations ahead of their turn: a place sends without waiting for a statement of its own", async () => {
    const fleet = fleetOf({ applyMs: 10 })
    const agents = Array.from({ length: 6 }, (_, i) => worker(`w${i}`))
    for (const agent of agents) await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    // How many generations were stored when each apply started.
    const storedAtApply: Array<number> = []
    const push = fleet.applies.push.bind(fleet.applies)
    fleet.applies.push = (...calls) => (storedAtApply.push(memory.sent.length), push(...calls))
    const { report } = await runJob(fleet, {}, { syncConcurrency: 1 }, memory)
    expect(report).toMatchObject({ status: "done", progress: { updated: 6 } })
    // Concurrency 1: the first four were stored together, before the first update went out.
    expect(storedAtApply[0]).toBeGreaterThanOrEqual(4)
    // Each agent's generation was stored once, the one its update carried.
    expect(memory.sent.map((call) => call.agentId).sort()).toEqual(agents.map((agent) => agent.id).sort())
    for (const call of memory.sent) expect(fleet.applies.some((apply) => apply.agentId === call.agentId && apply.generation === call.generation)).toBe(true)
  })

  it("a generation stored ahead whose statement failed (the database away back then) is stored again at the agent's turn: the run goes on", async () => {
    const fleet = fleetOf({ applyMs: 5 })
    const agents = Array.from({ length: 4 }, (_, i) => worker(`w${i}`))
    for (const agent of agents) await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const service = Effect.runSync(Effect.provide(SyncJobRepo, memory.layer))
    // The first statement for w2 (its store-ahead) fails; by its turn the database is back.
    let failed = 0
    const blip = {
      ...memory,
      layer: Layer.succeed(SyncJobRepo, {
        ...service,
        markSent: (jobId, agentId, generation, attempts) =>
          agentId === agents[2]!.id && failed++ === 0
            ? Effect.fail(new SqlError({ cause: new Error("connection reset"), message: "Failed to execute statement" }))
            : service.markSent(jobId, agentId, generation, attempts)
      })
    }
    const { report } = await runJob(fleet, {}, { syncConcurrency: 1 }, blip)
    expect(failed).toBe(2)
    expect(report).toMatchObject({ status: "done", progress: { updated: 4 }, errors: [] })
    const stored = memory.sent.find((call) => call.agentId === agents[2]!.id)
    expect(fleet.applies.some((apply) => apply.agentId === agents[2]!.id && apply.generation === stored?.generation)).toBe(true)
  })

  it("a result that cannot be recorded (the database away) fails the run and stops its places, even the last agent's", async () => {
    const run = async (failing: number) => {
      const fleet = fleetOf({ applyMs: 5 })
      const agents = Array.from({ length: 6 }, (_, i) => worker(`w${i}`))
      for (const agent of agents) await fleet.addOnline(agent)
      const memory = makeMemorySyncJobRepo(fleet.candidates)
      const service = Effect.runSync(Effect.provide(SyncJobRepo, memory.layer))
      const down = {
        ...memory,
        layer: Layer.succeed(SyncJobRepo, {
          ...service,
          record: (jobId, agentId, result) =>
            agentId === agents[failing]!.id ? Effect.fail(new SqlError({ cause: new Error("connection reset"), message: "Failed to execute statement" })) : service.record(jobId, agentId, result)
        })
      }
      const before = fleet.applies.length
      await expect(runJob(fleet, {}, { syncConcurrency: 1 }, down)).rejects.toThrow("Failed to execute statement")
      return { synced: fleet.applies.slice(before).map((call) => call.agentId), agents, job: [...memory.jobs.values()].at(-1)! }
    }
    const early = await run(1)
    expect(early.job.status).toBe("running")
    for (const agent of early.agents.slice(4)) expect(early.synced).not.toContain(agent.id)
    const last = await run(5)
    expect(last.job.status).toBe("running")
  })

  it("stores at most syncConcurrency × 4 agents' generations ahead of the agents the places have taken", async () => {
    const fleet = fleetOf({ applyMs: 2 })
    const agents = Array.from({ length: 40 }, (_, i) => worker(`w${i}`))
    for (const agent of agents) await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    // Stored past the agent whose apply starts (concurrency 1: the k-th apply's agent is the k-th taken).
    const aheadAtApply: Array<number> = []
    const before = fleet.applies.length
    const push = fleet.applies.push.bind(fleet.applies)
    fleet.applies.push = (...calls) => (aheadAtApply.push(memory.sent.length - (fleet.applies.length - before + 1)), push(...calls))
    const { report } = await runJob(fleet, {}, { syncConcurrency: 1 }, memory)
    expect(report).toMatchObject({ status: "done", progress: { updated: 40 } })
    expect(Math.max(...aheadAtApply)).toBeLessThanOrEqual(4)
    expect(Math.max(...aheadAtApply)).toBeGreaterThanOrEqual(2)
  })

  it("a job an earlier run finished (launched from a row read before it ended) gives its followers its stored result and ends their streams", async () => {
    const fleet = fleetOf()
    const agent = worker("finished")
    await fleet.addOnline(agent)
    const memory = makeMemorySyncJobRepo(fleet.candidates)
    const jobId = randomUUID()
    const job: SyncJobRow = { ...runningJob(jobId, 1, 1), status: "done", finishedAt: new Date() }
    memory.seed(job, [{ ...pendingRow(jobId, agent, 0), status: "updated" as const }])
    const before = fleet.applies.length
    // The row as the launch read it, still running: its feed starts from that.
    const { events } = await Promise.race([
      runJob(fleet, {}, {}, memory, { ...job, status: "running", finishedAt: null }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the job's event stream never ended")), 5_000))
    ])
    expect(fleet.applies.length).toBe(before)
    expect(events.at(-1)).toMatchObject({ type: "done", result: { status: "done", progress: { updated: 1 } } })
  })
})
