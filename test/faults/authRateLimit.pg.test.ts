import { request } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DEFAULT_AUTH_FAILURE_LIMITS } from "../../src/http/AuthFailureLimiter.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

const { perCredential, perAddress } = DEFAULT_AUTH_FAILURE_LIMITS

/**
 * A GET from a chosen loopback address (127.0.0.0/8 all reach the server), so each test is its
 * own client to the limiter. Output: the status and the `Retry-After` header.
 */
const getFrom = (baseUrl: string, localAddress: string, path: string, headers: Record<string, string>) =>
  new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
    const outgoing = request(`${baseUrl}${path}`, { method: "GET", headers, localAddress, agent: false }, (response) => {
      response.resume()
      response.on("end", () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"] }))
    })
    outgoing.on("error", reject)
    outgoing.end()
  })

describe("failed authentication is rate limited per credential and per address; valid credentials keep working", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let agentToken: string
  let inboxKey: string

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 })
    const { boardId } = await registerGatewayAndBoard(service, simulator, "limits")
    const agent = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Ada", board_id: boardId })
    expect(agent.status).toBe(201)
    agentToken = readAuthToken(simulator.state.files.get(agent.body.gateway_agent_id)?.get("AGENTS.md") ?? "")!
    inboxKey = (await service.api("POST", `/api/v1/agents/${agent.body.id}/api-key`)).body.api_key
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("one wrong token: 401 up to the limit, then 429 with Retry-After; the agent's and the admin's tokens from that address still pass", async () => {
    const from = "127.0.0.2"
    const wrong = { "x-agent-token": "sy_wrong-token-guessed" }
    const answers = []
    for (let attempt = 0; attempt < perCredential + 2; attempt++) answers.push(await getFrom(service.url, from, "/api/v1/agent/healthz", wrong))
    expect(answers.slice(0, perCredential).map((answer) => answer.status)).toEqual(Array(perCredential).fill(401))
    for (const limited of answers.slice(perCredential)) {
      expect(limited.status).toBe(429)
      expect(Number(limited.retryAfter)).toBeGreaterThan(0)
      expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60)
    }
    expect((await getFrom(service.url, from, "/api/v1/agent/healthz", { "x-agent-token": agentToken })).status).toBe(200)
    expect((await getFrom(service.url, from, "/api/v1/agents", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` })).status).toBe(200)
    // The same wrong token from another address is still limited: the key is the credential.
    expect((await getFrom(service.url, "127.0.0.3", "/api/v1/agent/healthz", wrong)).status).toBe(429)
  })

  it("many different wrong tokens from one address: 429 once the address passes its limit, while a valid token from it keeps working", async () => {
    const from = "127.0.0.4"
    const statuses: Array<number> = []
    for (let attempt = 0; attempt < perAddress + 5; attempt++) {
      statuses.push((await getFrom(service.url, from, "/api/v1/agent/healthz", { authorization: `Bearer sy_guess-${attempt}` })).status)
      if (attempt % 10 === 0) expect((await getFrom(service.url, from, "/api/v1/agent/healthz", { "x-agent-token": agentToken })).status).toBe(200)
    }
    expect(statuses.slice(0, perAddress)).toEqual(Array(perAddress).fill(401))
    expect(statuses.slice(perAddress)).toEqual(Array(5).fill(429))
    expect((await getFrom(service.url, from, "/api/v1/agent/healthz", { "x-agent-token": agentToken })).status).toBe(200)
    // Another address is not held back by this one.
    expect((await getFrom(service.url, "127.0.0.5", "/api/v1/agent/healthz", { authorization: "Bearer sy_first-try" })).status).toBe(401)
  })

  it("a wrong inbox key is limited the same way; the agent's own key keeps working", async () => {
    const from = "127.0.0.6"
    const wrong = { "x-api-key": "syk_wrong-inbox-key" }
    const statuses: Array<number> = []
    for (let attempt = 0; attempt < perCredential + 1; attempt++) statuses.push((await getFrom(service.url, from, "/api/gateway/poll", wrong)).status)
    expect(statuses).toEqual([...Array(perCredential).fill(401), 429])
    expect((await getFrom(service.url, from, "/api/gateway/poll", { "x-api-key": inboxKey })).status).toBe(200)
  })
})
