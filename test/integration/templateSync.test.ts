import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { startOpenClawGateway, type RealGateway } from "../support/openclawGateway.ts"
import { connectRaw, type RawConnection } from "../support/rawGatewayClient.ts"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"

const AGENTS = 20

/** Polls `read` every 200 ms until `accept` holds or `ms` pass; returns the last value. */
const until = async <T>(read: () => Promise<T>, accept: (value: T) => boolean, ms: number): Promise<T> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (accept(value) || Date.now() > deadline) return value
    await new Promise((r) => setTimeout(r, 200))
  }
}

/**
 * Template sync against a real OpenClaw gateway (its own: twenty agents would slow every suite
 * sharing the global one). The same 20 agents serve both cases: a token rotation, then a sync
 * the service crashes in the middle of.
 */
describe.skipIf(inject("realGateway") === null)("template sync against a real OpenClaw gateway", () => {
  let gateway: RealGateway
  let db: { url: string; drop: () => Promise<void> }
  let service: ServiceProcess
  let raw: RawConnection
  let gatewayId: string
  let agents: Array<{ id: string; name: string; gateway_agent_id: string }>
  const env = (concurrency: number) => ({
    DATABASE_URL: db.url,
    SWITCHYARD_CHECKIN_TIMEOUT_MS: "600000",
    SWITCHYARD_SYNC_CONCURRENCY: String(concurrency),
    SWITCHYARD_RETRY_BASE_MS: "500"
  })
  const jobPath = (jobId: string) => `/api/v1/gateways/${gatewayId}/templates/sync/${jobId}`
  const tokenOnGateway = async (gatewayAgentId: string) => {
    const result = await raw.call("agents.files.get", { agentId: gatewayAgentId, name: "AGENTS.md" })
    return readAuthToken((result.payload as { file?: { content?: string } } | undefined)?.file?.content ?? "")
  }
  const heartbeat = async (token: string) =>
    (await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token, "content-type": "application/json" }, body: "{}" })).status
  const finished = (jobId: string, ms: number) => until(() => service.api("GET", jobPath(jobId)), (answer) => /^(done|failed)$/.test(answer.body?.status ?? ""), ms)

  beforeAll(async () => {
    gateway = await startOpenClawGateway()
    db = await createTestDatabase()
    service = await startService(env(4))
    raw = await connectRaw(gateway)
    const created = await service.api("POST", "/api/v1/gateways", {
      name: "sync",
      url: gateway.url,
      token: gateway.token,
      workspace_root: mkdtempSync(path.join(tmpdir(), "sy-sync-"))
    })
    expect(created.status).toBe(201)
    gatewayId = created.body.id
    const board = await service.api("POST", "/api/v1/boards", { name: "Sync", gateway_id: gatewayId })
    const started = Date.now()
    const answers = await Promise.all(
      Array.from({ length: AGENTS }, (_, i) =>
        service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=240000", { name: `sync-${i}`, board_id: board.body.id })
      )
    )
    expect(answers.map((answer) => answer.status)).toEqual(Array(AGENTS).fill(201))
    agents = answers.map((answer) => answer.body)
    console.log(`[measure] ${AGENTS} agents provisioned on the real gateway in ${Date.now() - started} ms`)
  }, 300_000)

  afterAll(async () => {
    await raw?.close()
    await service?.kill("SIGTERM")
    await db?.drop()
    await gateway?.stop()
  })

  it(
    `rotate_tokens over ${AGENTS} agents: every AGENTS.md holds a new token that authenticates its heartbeat`,
    async () => {
      const before = new Map(await Promise.all(agents.map(async (agent) => [agent.id, await tokenOnGateway(agent.gateway_agent_id)] as const)))
      const started = Date.now()
      const job = await service.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync?rotate_tokens=true`)
      expect(job.status).toBe(202)
      const result = (await finished(job.body.job_id, 240_000)).body
      console.log(`[measure] rotate_tokens sync of ${AGENTS} agents + main on the real gateway: ${Date.now() - started} ms`)
      expect(result).toMatchObject({ status: "done", agents_updated: AGENTS, agents_skipped: 0, main_updated: true, errors: [] })
      expect(result.agents.every((agent: { token_source: string }) => agent.token_source === "minted")).toBe(true)
      for (const agent of agents) {
        const token = await tokenOnGateway(agent.gateway_agent_id)
        expect(token, agent.name).toMatch(/^sy_/)
        expect(token, agent.name).not.toBe(before.get(agent.id))
        expect({ name: agent.name, status: await heartbeat(token!) }).toEqual({ name: agent.name, status: 200 })
        expect(await heartbeat(before.get(agent.id)!)).toBe(401)
      }
    },
    300_000
  )

  it(
    "the service is killed mid-sync; restarted on the same database, the job resumes and finishes with a result for every agent",
    async () => {
      // Two at a time, so the crash lands with agents still to do.
      await service.kill("SIGTERM")
      service = await startService(env(2))
      const job = await service.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync?overwrite=true`)
      expect(job.status).toBe(202)
      const jobId: string = job.body.job_id
      const midway = await until(() => service.api("GET", jobPath(jobId)), (answer) => answer.body.progress.done >= 2, 120_000)
      expect(midway.body.status).toBe("running")
      await service.kill("SIGKILL")
      const doneAtCrash: number = midway.body.progress.done
      expect(doneAtCrash).toBeLessThan(AGENTS + 1)

      service = await startService(env(4))
      const result = (await finished(jobId, 240_000)).body
      expect(result).toMatchObject({ status: "done", agents_updated: AGENTS, main_updated: true, errors: [], progress: { total: AGENTS + 1, done: AGENTS + 1 } })
      // Without rotation every agent kept the token in its workspace, and it still authenticates.
      expect(result.agents.map((agent: { token_source: string }) => agent.token_source)).toEqual(Array(AGENTS + 1).fill("recovered"))
      const states = (await service.api("GET", `/api/v1/agents?gateway_id=${gatewayId}`)).body.items.map((agent: { state: string }) => agent.state)
      expect(states.filter((state: string) => state.startsWith("updating"))).toEqual([])
      for (const agent of agents) expect(await heartbeat((await tokenOnGateway(agent.gateway_agent_id))!)).toBe(200)
    },
    300_000
  )
})
