import { describe, expect, it } from "vitest"
import { registerGatewayAndBoard } from "../support/inProcessService.ts"
import { useSimulatedService } from "../support/useSimulatedService.ts"

/**
 * `GET /api/v1/templates/sync/jobs` (admin): the newest template sync jobs of every gateway,
 * newest first, with their progress from the jobs' own counters (the fleet view's job list).
 */
describe("GET /api/v1/templates/sync/jobs", () => {
  const suite = useSimulatedService({ checkinTimeoutMs: 600_000 })

  /** Starts a sync of `gatewayId` and waits until it is done; its id. */
  const syncDone = async (gatewayId: string, query: string) => {
    const started = await suite.service.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync${query}`)
    expect(started.status).toBe(202)
    const jobId = started.body.job_id as string
    await expect.poll(async () => (await suite.service.api("GET", `/api/v1/gateways/${gatewayId}/templates/sync/${jobId}`)).body.status, { timeout: 20_000 }).toBe("done")
    return jobId
  }

  it("lists the jobs of every gateway, newest first, each with its status, board and progress", async () => {
    const first = await registerGatewayAndBoard(suite.service, suite.simulator, "jobs-a")
    const second = await registerGatewayAndBoard(suite.service, suite.simulator, "jobs-b")
    const mainOnly = await syncDone(first.gatewayId, "")
    const boardOnly = await syncDone(second.gatewayId, `?include_main=false&board_id=${second.boardId}`)

    const answer = await suite.service.api("GET", "/api/v1/templates/sync/jobs")
    expect(answer.status).toBe(200)
    expect(answer.body.limit).toBe(20)
    const mine = (answer.body.items as Array<{ job_id: string }>).filter((job) => [mainOnly, boardOnly].includes(job.job_id))
    expect(mine).toEqual([
      {
        job_id: boardOnly,
        gateway_id: second.gatewayId,
        board_id: second.boardId,
        status: "done",
        message: null,
        progress: { total: 0, done: 0, updated: 0, skipped: 0, failed: 0 },
        created_at: expect.any(String),
        started_at: expect.any(String),
        finished_at: expect.any(String)
      },
      // The gateway-main agent, updated.
      expect.objectContaining({ job_id: mainOnly, gateway_id: first.gatewayId, board_id: null, status: "done", progress: { total: 1, done: 1, updated: 1, skipped: 0, failed: 0 } })
    ])
  })

  it("takes `limit` (1–100) and refuses anything else", async () => {
    const { gatewayId } = await registerGatewayAndBoard(suite.service, suite.simulator, "jobs-limit")
    await syncDone(gatewayId, "")
    const one = await suite.service.api("GET", "/api/v1/templates/sync/jobs?limit=1")
    expect(one.status).toBe(200)
    expect(one.body.items).toHaveLength(1)
    for (const query of ["limit=0", "limit=101", "since=1"]) expect((await suite.service.api("GET", `/api/v1/templates/sync/jobs?${query}`)).status, query).toBe(422)
  })
})
