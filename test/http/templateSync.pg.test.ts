import { describe, expect, it } from "vitest"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator, type SimulatorOptions } from "../support/simulator/GatewaySimulator.ts"

/**
 * Template sync as a background job over HTTP (docs/architecture.md §9.2), against the in-repo gateway
 * simulator: the answer comes at once, the result and the event stream tell what happened to
 * every agent, and gateway faults in the middle leave no agent stuck in `updating`.
 */

interface Stack {
  readonly simulator: GatewaySimulator
  readonly service: InProcessService
  readonly gatewayId: string
  readonly boardId: string
  readonly api: InProcessService["api"]
  /** Creates agents on `boardId` (default the stack's board) and waits until each is provisioned. */
  readonly createAgents: (names: ReadonlyArray<string>, boardId?: string) => Promise<Array<{ id: string; name: string }>>
  /** The board agents (not the gateway-main one), from the read model. */
  readonly states: () => Promise<Array<{ name: string; state: string; last_error: { tag: string; message: string } | null }>>
  readonly sync: (query?: string, body?: unknown) => Promise<{ status: number; body: any; location: string | null }>
  /** Polls the job until it is done or failed; returns its result. */
  readonly finished: (jobId: string, timeoutMs?: number) => Promise<any>
}

const withStack = async (simulatorOptions: SimulatorOptions, config: Partial<AppConfigShape>, body: (stack: Stack) => Promise<void>) => {
  const db = await createTestDatabase()
  const simulator = await startGatewaySimulator(simulatorOptions)
  let service: InProcessService | undefined
  try {
    service = await startInProcessService(db.url, { checkinTimeoutMs: 600_000, retryBaseMs: 100, ...config })
    const { api, url } = service
    const gateway = await api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status).toBe(201)
    const board = await api("POST", "/api/v1/boards", { name: "Sync", gateway_id: gateway.body.id })
    expect(board.status).toBe(201)
    const gatewayId: string = gateway.body.id
    const jobPath = `/api/v1/gateways/${gatewayId}/templates/sync`
    await body({
      simulator,
      service,
      gatewayId,
      boardId: board.body.id,
      api,
      createAgents: async (names, boardId = board.body.id) => {
        const created = await Promise.all(
          names.map((name) => api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name, board_id: boardId }))
        )
        for (const answer of created) expect(answer.status).toBe(201)
        return created.map((answer) => answer.body)
      },
      states: async () => (await api("GET", `/api/v1/agents?gateway_id=${gatewayId}`)).body.items.filter((agent: { role: string }) => agent.role !== "main"),
      sync: async (query = "", payload) => {
        const response = await fetch(`${url}${jobPath}${query}`, {
          method: "POST",
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
          ...(payload === undefined ? {} : { body: typeof payload === "string" ? payload : JSON.stringify(payload) })
        })
        return { status: response.status, body: await response.json(), location: response.headers.get("location") }
      },
      finished: async (jobId, timeoutMs = 30_000) => {
        await expect
          .poll(async () => (await api("GET", `${jobPath}/${jobId}`)).body.status, { timeout: timeoutMs, interval: 50 })
          .toMatch(/^(done|failed)$/)
        return (await api("GET", `${jobPath}/${jobId}`)).body
      }
    })
  } finally {
    await service?.stop()
    await simulator.stop()
    await db.drop()
  }
}

interface SseEvent {
  readonly event: string
  readonly data: any
}

/** Reads a whole event stream (the server closes it after `done`); comments (`: ping`) are dropped. */
const readEvents = async (service: InProcessService, path: string): Promise<{ contentType: string | null; events: Array<SseEvent> }> => {
  const response = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, signal: AbortSignal.timeout(30_000) })
  expect(response.status).toBe(200)
  const text = await response.text()
  const events = text
    .split("\n\n")
    .map((block) => block.split("\n").filter((line) => line !== "" && !line.startsWith(":")))
    .filter((lines) => lines.length > 0)
    .map((lines) => ({
      event: lines.find((line) => line.startsWith("event: "))!.slice(7),
      data: JSON.parse(lines.find((line) => line.startsWith("data: "))!.slice(6))
    }))
  return { contentType: response.headers.get("content-type"), events }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe("POST /gateways/{id}/templates/sync (in-process service, simulated gateway)", () => {
  it("answers 202 at once with a job id; the result has Mission Control's shape; the event stream follows the job to done", async () => {
    await withStack({ latencyMs: 20 }, { syncConcurrency: 2 }, async (stack) => {
      const { api, service, gatewayId } = stack
      const workers = await stack.createAgents(["Ada", "Grace", "Linus", "Ken"])
      const paused = await api("POST", "/api/v1/boards", { name: "Paused", gateway_id: gatewayId })
      const [sleeper] = await stack.createAgents(["Sleeper"], paused.body.id)
      expect((await api("PATCH", `/api/v1/boards/${paused.body.id}`, { paused: true })).status).toBe(200)

      const posted = Date.now()
      const started = await stack.sync("?rotate_tokens=true")
      const answeredInMs = Date.now() - posted
      expect(started.status).toBe(202)
      expect(started.body).toMatchObject({ job_id: expect.stringMatching(UUID), gateway_id: gatewayId, status: "queued" })
      expect(started.location).toBe(`/api/v1/gateways/${gatewayId}/templates/sync/${started.body.job_id}`)
      const jobId: string = started.body.job_id
      const stream = await readEvents(service, `${started.location}/events`)
      // At 20 ms a gateway call, five agents take far longer than the answer did.
      expect(answeredInMs).toBeLessThan(1_000)

      expect(stream.contentType).toMatch(/^text\/event-stream/)
      const [first, ...rest] = stream.events
      expect(first).toMatchObject({ event: "progress", data: { type: "progress", job_id: jobId } })
      expect(rest.filter((event) => event.event === "agent").length).toBeGreaterThan(0)
      expect(rest.at(-1)?.event).toBe("done")
      // Nothing lost and nothing doubled: after the progress the client joined with, every agent
      // result arrives as one event that counts one more.
      let done = first!.data.progress.done
      for (const event of rest.slice(0, -1)) {
        if (event.event === "agent") expect(event.data.progress.done).toBe((done += 1))
        else done = event.data.progress.done
      }
      expect(done).toBe(6)

      const result = await stack.finished(jobId)
      expect(rest.at(-1)?.data.result).toEqual(result)
      const main = result.agents.find((agent: any) => agent.board_id === null)
      expect(result).toEqual({
        job_id: jobId,
        gateway_id: gatewayId,
        status: "done",
        include_main: true,
        reset_sessions: false,
        lead_only: false,
        rotate_tokens: true,
        force_bootstrap: false,
        overwrite: false,
        board_id: null,
        agents_updated: 4,
        agents_skipped: 1,
        main_updated: true,
        errors: [],
        progress: { total: 6, done: 6, updated: 5, skipped: 1, failed: 0 },
        agents: expect.any(Array),
        created_at: expect.any(String),
        started_at: expect.any(String),
        finished_at: expect.any(String)
      })
      // Board agents in creation order (agents created at once may tie and go in id order), the main agent last.
      expect(result.agents).toHaveLength(6)
      expect(result.agents.slice(0, -1)).toEqual(
        expect.arrayContaining([
          ...workers.map((agent) => expect.objectContaining({ agent_id: agent.id, agent_name: agent.name, status: "updated", token_source: "minted", message: null })),
          expect.objectContaining({ agent_id: sleeper!.id, status: "skipped", message: "board paused", token_source: null })
        ])
      )
      expect(result.agents.at(-1)).toEqual(expect.objectContaining({ agent_id: main.agent_id, agent_name: "Sim Gateway Agent", board_id: null, status: "updated" }))
      expect((await api("GET", `/api/v1/agents/${main.agent_id}`)).body).toMatchObject({ role: "main" })
      // Files were written without a wake: each worker got exactly its provisioning wake.
      for (const agent of workers) {
        const wakes = [...stack.simulator.state.chat.values()].flat().filter((row) => row.role === "user" && row.content.startsWith(`Hello ${agent.name}.`))
        expect(wakes, agent.name).toHaveLength(1)
      }
      expect(JSON.stringify(result)).not.toMatch(/sy_[A-Za-z0-9_-]{20,}/)

      // A client that comes after the end gets the final state, then the stream closes.
      const late = await readEvents(service, `${started.location}/events`)
      expect(late.events.map((event) => event.event)).toEqual(["progress", "done"])
      expect(late.events[1]?.data.result).toEqual(result)
    })
  }, 60_000)

  it("409 with the running job's id while the gateway has a sync queued or running; 202 again once it is done", async () => {
    await withStack({ latencyMs: 30 }, { syncConcurrency: 1 }, async (stack) => {
      await stack.createAgents(["One", "Two", "Three"])
      const [first, second] = await Promise.all([stack.sync("?include_main=false"), stack.sync("", { include_main: false })])
      const answers = [first, second].sort((a, b) => a.status - b.status)
      expect(answers.map((answer) => answer.status)).toEqual([202, 409])
      const jobId = answers[0]!.body.job_id
      expect(answers[1]!.body).toMatchObject({ job_id: jobId, detail: expect.stringContaining(jobId) })
      expect(await stack.finished(jobId)).toMatchObject({ status: "done", agents_updated: 3 })
      expect((await stack.sync("?include_main=false")).status).toBe(202)
    })
  }, 60_000)

  it("422 on bad flags, 404 on an unknown gateway, board or job", async () => {
    await withStack({}, {}, async (stack) => {
      const { api, gatewayId } = stack
      const unknown = "00000000-0000-4000-8000-000000000000"
      for (const [query, body] of [
        ["?include_main=maybe", undefined],
        ["?rotate_token=true", undefined],
        ["?board_id=not-a-uuid", undefined],
        ["", { reset_sessions: "yes" }],
        ["", { overwrite: true, surprise: 1 }],
        ["", "{not json"],
        ["?lead_only=true", { lead_only: false }]
      ] as const) {
        const answer = await stack.sync(query, body)
        expect({ query, body, status: answer.status }).toEqual({ query, body, status: 422 })
        expect(answer.body.detail).toEqual(expect.any(String))
      }
      expect((await api("POST", `/api/v1/gateways/${unknown}/templates/sync`)).status).toBe(404)
      expect((await stack.sync(`?board_id=${unknown}`)).status).toBe(404)
      const other = await api("POST", "/api/v1/gateways", { name: "Other", url: stack.simulator.url, token: stack.simulator.token, workspace_root: "/srv/other" })
      const otherBoard = await api("POST", "/api/v1/boards", { name: "Elsewhere", gateway_id: other.body.id })
      expect((await stack.sync("", { board_id: otherBoard.body.id })).status).toBe(404)
      expect((await api("GET", `/api/v1/gateways/${gatewayId}/templates/sync/${unknown}`)).status).toBe(404)
      expect((await api("GET", `/api/v1/gateways/${gatewayId}/templates/sync/${unknown}/events`)).status).toBe(404)
      // Nothing was queued by any of these.
      expect((await stack.sync("?include_main=false")).status).toBe(202)
    })
  }, 60_000)

  for (const [code, reason] of [
    [1012, "service restart"],
    [4001, "gateway policy changed"]
  ] as const) {
    it(`the gateway closes every socket (${code}) mid-sync: every agent converges, none is left in updating`, async () => {
      await withStack({ latencyMs: 25 }, { syncConcurrency: 4, gatewayCallTimeoutMs: 5_000 }, async (stack) => {
        const { simulator } = stack
        const agents = await stack.createAgents(Array.from({ length: 8 }, (_, i) => `Close ${i}`))
        const writes = simulator.countOf("agents.files.set")
        const started = await stack.sync("?include_main=false&overwrite=true")
        expect(started.status).toBe(202)
        await expect.poll(() => simulator.countOf("agents.files.set"), { timeout: 10_000, interval: 5 }).toBeGreaterThan(writes + 2)
        const sessionsBefore = (await stack.service.gatewayStats()).socketsOpened
        simulator.closeAll(code, reason)

        const result = await stack.finished(started.body.job_id)
        expect(result).toMatchObject({ status: "done", agents_updated: agents.length, agents_skipped: 0, errors: [] })
        expect((await stack.service.gatewayStats()).socketsOpened).toBeGreaterThan(sessionsBefore)
        const states = await stack.states()
        expect(states.filter((agent) => agent.state.startsWith("updating")).map((agent) => `${agent.name}: ${agent.state}`)).toEqual([])
        expect(states.map((agent) => agent.state)).toEqual(agents.map(() => "offline"))
      })
    }, 60_000)
  }

  it("the service stops mid-sync; started again on the same database, the job resumes and every agent gets exactly one update", async () => {
    const db = await createTestDatabase()
    const simulator = await startGatewaySimulator({ latencyMs: 30 })
    const config = { checkinTimeoutMs: 600_000, retryBaseMs: 100, syncConcurrency: 2 }
    let service = await startInProcessService(db.url, config)
    try {
      const gateway = await service.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/ws" })
      const board = await service.api("POST", "/api/v1/boards", { name: "Resume", gateway_id: gateway.body.id })
      const created = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: `Resume ${i}`, board_id: board.body.id })
        )
      )
      const path = `/api/v1/gateways/${gateway.body.id}/templates/sync`
      const job = await service.api("POST", `${path}?include_main=false`)
      await expect.poll(async () => (await service.api("GET", `${path}/${job.body.job_id}`)).body.progress.done, { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(2)
      await service.stop()
      service = await startInProcessService(db.url, config)
      // Stopped partway: the restart found work left.
      expect((await service.api("GET", `${path}/${job.body.job_id}`)).body.progress.done).toBeLessThan(8)

      await expect.poll(async () => (await service.api("GET", `${path}/${job.body.job_id}`)).body.status, { timeout: 30_000, interval: 50 }).toBe("done")
      const result = (await service.api("GET", `${path}/${job.body.job_id}`)).body
      expect(result).toMatchObject({ agents_updated: 8, errors: [], progress: { total: 8, done: 8, updated: 8 } })
      // Provisioning was generation 1; one update each makes 2, whatever side of the stop it fell on.
      for (const agent of created) {
        const seen = (await service.api("GET", `/api/v1/agents/${agent.body.id}`)).body
        expect({ name: seen.name, state: seen.state, generation: seen.lifecycle.generation }).toEqual({ name: seen.name, state: "offline", generation: 2 })
      }
    } finally {
      await service.stop()
      await simulator.stop()
      await db.drop()
    }
  }, 60_000)

  it("a gateway that never answers: the job ends in bounded time, each agent's error in the result and on the agent", async () => {
    const config = { gatewayCallTimeoutMs: 300, maxAttempts: 2, retryBaseMs: 100, syncAgentTimeoutMs: 15_000, syncConcurrency: 8 }
    await withStack({}, config, async (stack) => {
      const agents = await stack.createAgents(["Hung 0", "Hung 1", "Hung 2"])
      stack.simulator.inject({ method: "sessions.patch", hang: true, times: 1_000 })
      const started = Date.now()
      const job = await stack.sync("?include_main=false")
      const result = await stack.finished(job.body.job_id, 20_000)
      const elapsed = Date.now() - started
      console.log(`[measure] hung gateway: sync of ${agents.length} agents ended in ${elapsed} ms`)
      // Two job attempts of two machine attempts of one 300 ms call, plus backoffs.
      expect(elapsed).toBeLessThan(10_000)
      expect(result).toMatchObject({ status: "done", agents_updated: 0, agents_skipped: 3, progress: { failed: 3 } })
      for (const agent of result.agents) {
        expect(agent).toMatchObject({ status: "error", message: "GatewayTimeoutError: sessions.patch: no answer within 300 ms", attempts: 2 })
      }
      expect(result.errors).toHaveLength(3)
      for (const agent of await stack.states()) {
        expect({ state: agent.state, tag: agent.last_error?.tag }).toEqual({ state: "updating.failed", tag: "GatewayTimeoutError" })
      }
    })
  }, 60_000)
})
