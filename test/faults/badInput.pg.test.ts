import { request } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MAX_BODY_BYTES } from "../../src/http/decode.ts"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../support/database.ts"
import { registerGatewayAndBoard, startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" }

/**
 * A raw request with node:http, so the answer is seen even while the body is still being sent:
 * `chunks` bodies are written one after another until the answer arrives (or all are sent).
 * Output: the status, the answer's body and headers, and how many body bytes were written.
 */
const rawRequest = (url: string, path: string, headers: Record<string, string>, chunks: Iterable<Buffer>) =>
  new Promise<{ status: number; body: string; headers: Record<string, unknown>; written: number }>((resolve, reject) => {
    let written = 0
    let answered = false
    const outgoing = request(`${url}${path}`, { method: "POST", headers }, (response) => {
      answered = true
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers, written }))
    })
    // The server closes the connection after a 413 while we may still be writing.
    outgoing.on("error", (error) => (answered ? undefined : reject(error)))
    const iterator = chunks[Symbol.iterator]()
    const pump = () => {
      for (let next = iterator.next(); !next.done && !answered; next = iterator.next()) {
        written += next.value.length
        if (!outgoing.write(next.value)) return void outgoing.once("drain", pump)
      }
      if (!answered) outgoing.end()
    }
    pump()
  })

function* repeated(chunk: Buffer, times: number) {
  for (let index = 0; index < times; index++) yield chunk
}

describe("bad input is a clear 4xx: URLs, NUL and lone surrogates, body size", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let ids: { gatewayId: string; boardId: string; agentId: string; agentToken: string }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { checkinTimeoutMs: 300_000, offlineAfterMs: 300_000 })
    const { gatewayId, boardId } = await registerGatewayAndBoard(service, simulator, "inputs")
    const agent = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name: "Ada", board_id: boardId })
    expect(agent.status).toBe(201)
    const agentToken = readAuthToken(simulator.state.files.get(agent.body.gateway_agent_id)?.get("AGENTS.md") ?? "")
    ids = { gatewayId, boardId, agentId: agent.body.id, agentToken: agentToken! }
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("a gateway url that is not a URL is a 422 naming `url` on create, update and probe", async () => {
    const answers = await Promise.all([
      service.api("POST", "/api/v1/gateways", { name: "Nowhere", url: "not a url", token: "t", workspace_root: "/srv/nowhere" }),
      service.api("PATCH", `/api/v1/gateways/${ids.gatewayId}`, { url: "ws://" }),
      service.api("POST", "/api/v1/gateways/status", { url: "http//[", token: "t" })
    ])
    for (const answer of answers) {
      expect(answer.status).toBe(422)
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain("url")
      expect(answer.body.detail).toContain("ws:// or wss:// URL")
    }
  })

  it("NUL or a lone surrogate anywhere in a body, query or path is a 422 at once, and changes nothing", async () => {
    const rename = await service.api("PATCH", `/api/v1/agents/${ids.agentId}`, { name: "Ada\u0000Lovelace" })
    expect(rename.status).toBe(422)
    expect(rename.body.errors).toEqual([{ path: "name", message: "must not contain NUL characters" }])
    expect((await service.api("GET", `/api/v1/agents/${ids.agentId}`)).body.name).toBe("Ada")

    const created = await service.api("POST", "/api/v1/agents", { name: "Half\ud800", board_id: ids.boardId })
    expect(created.status).toBe(422)
    expect(created.body.errors).toEqual([{ path: "name", message: "must not contain unpaired UTF-16 surrogates" }])
    expect((await service.api("GET", `/api/v1/agents?board_id=${ids.boardId}`)).body.total).toBe(1)

    // A heartbeat's status used to hold the request until the database gave up.
    const started = Date.now()
    const beat = await service.api("POST", "/api/v1/agent/heartbeat", { status: "\udc00busy" }, { authorization: "", "x-agent-token": ids.agentToken })
    expect(beat.status).toBe(422)
    expect(Date.now() - started).toBeLessThan(2_000)

    const entries = async () => (await service.api("GET", `/api/v1/boards/${ids.boardId}/memory`)).body.total as number
    const before = await entries()
    const memory = await service.api("POST", `/api/v1/boards/${ids.boardId}/memory`, { content: "note", tags: ["a\u0000"] })
    expect(memory).toMatchObject({ status: 422, body: { errors: [{ path: "tags.0" }] } })
    const key = await service.api("POST", `/api/v1/boards/${ids.boardId}/memory`, { content: "note", "\u0000": 1 })
    expect(key.status).toBe(422)
    expect(await entries()).toBe(before)

    const query = await service.api("PATCH", `/api/v1/agents/${ids.agentId}?wait_for=online%00`, {})
    expect(query).toMatchObject({ status: 422, body: { errors: [{ path: "wait_for", message: "must not contain NUL characters" }] } })
    const path = await service.api("GET", `/api/v1/gateways/${ids.gatewayId}/sessions/agent%00x`)
    expect(path).toMatchObject({ status: 422, body: { errors: [{ path: "key", message: "must not contain NUL characters" }] } })
  })

  it("a body over 1 MiB is a 413 before it is read: a declared length at once, a chunked one as it passes the limit", async () => {
    const route = `/api/v1/boards/${ids.boardId}/memory`
    const before = (await service.api("GET", route)).body.total as number
    const declared = await rawRequest(service.url, route, { ...ADMIN, "content-length": String(100 * 1024 * 1024) }, repeated(Buffer.alloc(64 * 1024, 0x20), 1_600))
    expect(declared.status).toBe(413)
    expect(JSON.parse(declared.body).detail).toContain("1 MiB")
    expect(declared.headers["connection"]).toBe("close")
    expect(declared.written).toBeLessThan(16 * 1024 * 1024)

    // 100 MB of chunked JSON whitespace: refused once 1 MiB has arrived, the rest never read.
    const chunked = await rawRequest(service.url, route, { ...ADMIN, "transfer-encoding": "chunked" }, repeated(Buffer.alloc(64 * 1024, 0x20), 1_600))
    expect(chunked.status).toBe(413)
    expect(chunked.written).toBeLessThan(16 * 1024 * 1024)
    expect((await service.api("GET", route)).body.total).toBe(before)
  })

  it("a body just under the limit is read and handled (the largest fields fit with room to spare)", async () => {
    const entry = JSON.stringify({ content: "x".repeat(20_000), tags: ["big"] })
    const body = Buffer.from(`${" ".repeat(MAX_BODY_BYTES - entry.length)}${entry}`)
    expect(body.length).toBe(MAX_BODY_BYTES)
    const posted = await rawRequest(service.url, `/api/v1/boards/${ids.boardId}/memory`, { ...ADMIN, "content-length": String(body.length) }, [body])
    expect(posted.status).toBe(201)
  })
})
