import { randomUUID } from "node:crypto"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DEFAULT_GATEWAY_MIN_VERSION } from "../../src/config/AppConfig.ts"
import { ensureMainAgent } from "../../src/fleet/ensureMainAgent.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { GatewayRepo } from "../../src/store/GatewayRepo.ts"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { SIMULATED_METHODS } from "../support/simulator/dispatchRequest.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** The service's query timeout in these tests (its `gatewayCallTimeoutMs`), ms. */
const QUERY_TIMEOUT_MS = 1_500
/** What "bounded" allows on top of the timeout: the answer, not a second timeout. */
const SLACK_MS = 1_500

describe("gateway runtime queries (in-process service, simulated gateway)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let gatewayId: string
  let mainKey: string

  const register = async (gateway: { url: string; token: string }, name: string) => {
    const created = await service.api("POST", "/api/v1/gateways", { name, url: gateway.url, token: gateway.token, workspace_root: `/srv/${name}` })
    expect(created.status).toBe(201)
    return created.body.id as string
  }
  const timed = async <T>(run: () => Promise<T>) => {
    const started = performance.now()
    const value = await run()
    return { value, ms: performance.now() - started }
  }
  const chatRows = (key: string) => simulator.state.chat.get(key) ?? []
  const clientSockets = () => service.runtime.runPromise(Effect.flatMap(GatewayClient, (client) => client.connected))

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { gatewayCallTimeoutMs: QUERY_TIMEOUT_MS, checkinTimeoutMs: 300_000 })
    gatewayId = await register(simulator, "sim")
    // Gateway create may already have made the main agent (or not yet): either way there is one after this.
    const main = await service.runtime.runPromise(ensureMainAgent({ id: gatewayId, name: "sim" }))
    mainKey = `agent:mc-gateway-${gatewayId}:main`
    // Let its provisioning finish, so its own session writes do not race the assertions below.
    const deadline = Date.now() + 20_000
    while ((await service.api("GET", `/api/v1/agents/${main.agentId}`)).body.state !== "provisioning.awaiting") {
      if (Date.now() > deadline) throw new Error("the main agent did not finish provisioning within 20 s")
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })
  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  describe("GET /gateways/{id}/status", () => {
    it("reports the handshake, the version check, the sessions and the main session, never the token", async () => {
      const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/status`)
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({
        connected: true,
        gateway_url: simulator.url,
        server_version: "2026.9.6",
        protocol: 4,
        version_checked: true,
        main_session_error: null,
        error: null,
        pairing: null
      })
      expect(answer.body.sessions_count).toBe(answer.body.sessions.length)
      expect(answer.body.sessions.map((session: { key: string }) => session.key)).toContain(mainKey)
      expect(answer.body.main_session).toMatchObject({ key: mainKey })
      expect(JSON.stringify(answer.body)).not.toContain(simulator.token)
    })

    it("answers 200 connected:false with the reason when the gateway is unreachable", async () => {
      const gone = await startGatewaySimulator()
      await gone.stop()
      // Saved straight into the repository: no main agent left provisioning against a dead gateway (that holds up shutdown).
      const goneId = randomUUID()
      await service.runtime.runPromise(
        Effect.flatMap(GatewayRepo, (repo) => repo.insert({ id: goneId, name: "gone", url: gone.url, token: Redacted.make(gone.token), workspaceRoot: "/srv/gone" }))
      )
      const { value: answer, ms } = await timed(() => service.api("GET", `/api/v1/gateways/${goneId}/status`))
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ connected: false, gateway_url: gone.url, sessions: null, sessions_count: null, pairing: null })
      expect(answer.body.error).toMatch(/unreachable|ECONNREFUSED/)
      expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS)
      // The reads that need the gateway say so with 502 and a message.
      for (const route of ["sessions", `sessions/${encodeURIComponent(mainKey)}`, "sessions/agent:main:main/history", "commands"]) {
        const failed = await service.api("GET", `/api/v1/gateways/${goneId}/${route}`)
        expect(failed.status, route).toBe(502)
        expect(failed.body.detail, route).toMatch(/^gateway .+ failed: connection unreachable/)
      }
      const sent = await service.api("POST", `/api/v1/gateways/${goneId}/sessions/agent:main:main/message`, { content: "anyone?" })
      expect(sent.status).toBe(502)
    })

    it("answers within the query timeout when the gateway hangs on sessions.list", async () => {
      simulator.inject({ method: "sessions.list", hang: true })
      const { value: answer, ms } = await timed(() => service.api("GET", `/api/v1/gateways/${gatewayId}/status`))
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ connected: false, server_version: "2026.9.6", sessions: null })
      expect(answer.body.error).toBe(`sessions.list: no answer within ${QUERY_TIMEOUT_MS} ms`)
      expect(ms).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 50)
      expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS)
    })

    it("is 404 for an unknown gateway and 422 for an id that is not a uuid", async () => {
      const unknown = randomUUID()
      for (const route of ["status", "sessions", "sessions/agent:main:main", "sessions/agent:main:main/history", "commands"]) {
        const answer = await service.api("GET", `/api/v1/gateways/${unknown}/${route}`)
        expect(answer.status, route).toBe(404)
        expect(answer.body, route).toEqual({ detail: "gateway not found" })
      }
      expect((await service.api("POST", `/api/v1/gateways/${unknown}/sessions/agent:main:main/message`, { content: "hi" })).status).toBe(404)
      expect((await service.api("GET", "/api/v1/gateways/not-a-uuid/status")).status).toBe(422)
    })

    it("is admin-only", async () => {
      const response = await fetch(`${service.url}/api/v1/gateways/${gatewayId}/status`)
      expect(response.status).toBe(401)
      const probe = await fetch(`${service.url}/api/v1/gateways/status`, { method: "POST", body: JSON.stringify({ url: simulator.url, token: simulator.token }) })
      expect(probe.status).toBe(401)
    })
  })

  describe("POST /gateways/status (an unsaved gateway)", () => {
    const probe = (body: unknown) => service.api("POST", "/api/v1/gateways/status", body)

    it("probes the url and token given, then closes its socket", async () => {
      const answer = await probe({ url: simulator.url, token: simulator.token })
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ connected: true, server_version: "2026.9.6", protocol: 4, version_checked: true, main_session: null, error: null })
      expect(Array.isArray(answer.body.sessions)).toBe(true)
      expect(JSON.stringify(answer.body)).not.toContain(simulator.token)
      expect((await clientSockets()).filter((id) => id.startsWith("probe-"))).toEqual([])
    })

    it("reports a release older than the minimum as connected:false with the reason", async () => {
      const old = await startGatewaySimulator({ version: "2026.1.30" })
      try {
        const answer = await probe({ url: old.url, token: old.token })
        expect(answer.status).toBe(200)
        expect(answer.body).toMatchObject({ connected: false, server_version: "2026.1.30", sessions: null })
        expect(answer.body.error).toContain(`OpenClaw 2026.1.30 is older than the minimum ${DEFAULT_GATEWAY_MIN_VERSION}`)
        expect(old.countOf("sessions.list")).toBe(0)
      } finally {
        await old.stop()
      }
    })

    it("reports a refused token without echoing it", async () => {
      const wrong = "wrong-token-0123456789abcdef"
      const answer = await probe({ url: simulator.url, token: wrong })
      expect(answer.status).toBe(200)
      expect(answer.body.connected).toBe(false)
      expect(answer.body.error).toMatch(/cannot be used/)
      expect(JSON.stringify(answer.body)).not.toContain(wrong)
    })

    it("reports a device awaiting pairing with its request id", async () => {
      simulator.inject({
        method: "connect",
        error: { code: "NOT_PAIRED", message: "pairing required", details: { code: "PAIRING_REQUIRED", requestId: "req-42", reason: "not-paired" } }
      })
      const answer = await probe({ url: simulator.url, token: simulator.token })
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ connected: false, error: "waiting for pairing approval, request id req-42", pairing: { request_id: "req-42" } })
    })

    it("answers within the query timeout when the handshake hangs, leaving no socket", async () => {
      simulator.inject({ method: "connect", hang: true })
      const { value: answer, ms } = await timed(() => probe({ url: simulator.url, token: simulator.token }))
      expect(answer.body).toMatchObject({ connected: false })
      expect(answer.body.error).toContain(`no handshake within ${QUERY_TIMEOUT_MS} ms`)
      expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS)
      expect((await clientSockets()).filter((id) => id.startsWith("probe-"))).toEqual([])
    })

    it("refuses bad bodies with 422 and dials nothing", async () => {
      const dialled = simulator.connectionsOpened
      const cases: Array<[unknown, RegExp]> = [
        [{ url: "ws://gateway.example.com:18789", token: "t" }, /must use wss:\/\//],
        [{ url: "http://127.0.0.1:1", token: "t" }, /ws:\/\/ or wss:\/\//],
        [{ url: simulator.url }, /token/],
        [{ url: simulator.url, token: "" }, /token/],
        [{ url: simulator.url, token: "t", extra: 1 }, /extra/],
        ["{not json", /not valid JSON/]
      ]
      for (const [body, detail] of cases) {
        const answer = await probe(body)
        expect(answer.status, JSON.stringify(body)).toBe(422)
        expect(answer.body.detail, JSON.stringify(body)).toMatch(detail)
      }
      expect(simulator.connectionsOpened).toBe(dialled)
    })
  })

  describe("sessions", () => {
    it("lists sessions with the main session", async () => {
      const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions`)
      expect(answer.status).toBe(200)
      expect(answer.body.main_session).toMatchObject({ key: mainKey })
      expect(answer.body.sessions.map((session: { key: string }) => session.key)).toContain(mainKey)
    })

    it("ensures a missing main session with sessions.patch {label: Gateway Agent} (docs/operations.md §6.7)", async () => {
      simulator.state.sessions.delete(mainKey)
      const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions`)
      expect(answer.body.main_session).toMatchObject({ key: mainKey, label: "Gateway Agent" })
      expect(simulator.calls.filter((call) => call.method === "sessions.patch").at(-1)?.params).toEqual({ key: mainKey, label: "Gateway Agent" })
      // Listed now, so the next read writes nothing.
      const patches = simulator.countOf("sessions.patch")
      await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions`)
      expect(simulator.countOf("sessions.patch")).toBe(patches)
    })

    it("reads one session by its URL-encoded key (and a raw one), and 404s an absent one", async () => {
      const encoded = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(mainKey)}`)
      expect(encoded.status).toBe(200)
      expect(encoded.body.session).toMatchObject({ key: mainKey, agentId: `mc-gateway-${gatewayId}` })
      const raw = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${mainKey}`)
      expect(raw.body.session.key).toBe(mainKey)
      const absent = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent("agent:main:nobody-here")}`)
      expect(absent.status).toBe(404)
      expect(absent.body).toEqual({ detail: "session not found" })
      const spaced = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent("agent main")}`)
      expect(spaced.status).toBe(422)
    })

    it("502s within the query timeout when sessions.list hangs", async () => {
      simulator.inject({ method: "sessions.list", hang: true })
      const { value: answer, ms } = await timed(() => service.api("GET", `/api/v1/gateways/${gatewayId}/sessions`))
      expect(answer.status).toBe(502)
      expect(answer.body.detail).toBe(`gateway ${gatewayId}: sessions.list failed: sessions.list: no answer within ${QUERY_TIMEOUT_MS} ms`)
      expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS)
    })
  })

  describe("messages and history", () => {
    const key = "agent:main:main"
    const send = (content: unknown, headers: Record<string, string> = {}) =>
      service.api("POST", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/message`, content, headers)

    it("sends with chat.send {deliver:false} and the history shows it", async () => {
      const answer = await send({ content: "status report, please" })
      expect(answer.status).toBe(202)
      expect(answer.body).toMatchObject({ ok: true, status: "started" })
      expect(answer.body.idempotency_key).toMatch(/^[0-9a-f-]{36}$/)
      expect(simulator.calls.filter((call) => call.method === "chat.send").at(-1)?.params).toEqual({
        sessionKey: key,
        message: "status report, please",
        deliver: false,
        idempotencyKey: answer.body.idempotency_key
      })
      const history = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/history?limit=1`)
      expect(history.status).toBe(200)
      expect(history.body.history).toHaveLength(1)
      expect(history.body.history[0]).toMatchObject({ role: "user", content: "status report, please" })
    })

    it("honours Idempotency-Key: a retried request is sent once", async () => {
      const before = chatRows(key).length
      const first = await send({ content: "only once" }, { "idempotency-key": "retry-me-1" })
      const again = await send({ content: "only once" }, { "idempotency-key": "retry-me-1" })
      expect([first.status, again.status]).toEqual([202, 202])
      expect(first.body).toMatchObject({ idempotency_key: "retry-me-1", status: "started" })
      expect(again.body).toMatchObject({ idempotency_key: "retry-me-1", status: "in_flight" })
      expect(chatRows(key).slice(before).map((row) => row.content)).toEqual(["only once"])
      // The same key for another message is the client's mistake, not a second send.
      const reused = await send({ content: "something else" }, { "idempotency-key": "retry-me-1" })
      expect(reused.status).toBe(409)
      expect(chatRows(key)).toHaveLength(before + 1)
    })

    it("refuses bad bodies and headers with 422 and sends nothing", async () => {
      const sends = simulator.countOf("chat.send")
      for (const body of [{}, { content: "" }, { content: "   " }, { content: 5 }, { content: "hi", deliver: true }, "{not json"]) {
        const answer = await send(body)
        expect(answer.status, JSON.stringify(body)).toBe(422)
      }
      const badKey = await send({ content: "hi" }, { "idempotency-key": "has space" })
      expect(badKey.status).toBe(422)
      expect(badKey.body.detail).toMatch(/Idempotency-Key/)
      expect((await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/history?limit=0`)).status).toBe(422)
      expect(simulator.countOf("chat.send")).toBe(sends)
    })

    it("passes on the gateway's refusal of a session of an unknown agent as 422", async () => {
      const answer = await service.api("POST", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent("agent:nobody:main")}/message`, { content: "hi" })
      expect(answer.status).toBe(422)
      expect(answer.body.detail).toContain('Agent "nobody" no longer exists')
    })

    it("502s within the query timeout when chat.history hangs", async () => {
      simulator.inject({ method: "chat.history", hang: true })
      const { value: answer, ms } = await timed(() => service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/history`))
      expect(answer.status).toBe(502)
      expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS)
    })
  })

  describe("a refusal the gateway marks retryable (docs/operations.md §6.7)", () => {
    const key = "agent:main:main"
    const closing = { code: "UNAVAILABLE", message: "Agent database resources are closing", retryable: true }
    const sendTo = (content: string, idempotencyKey: string) =>
      service.api("POST", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/message`, { content }, { "idempotency-key": idempotencyKey })

    it("is ridden out: each read refused once answers 200", async () => {
      const reads: Array<[string, string]> = [
        ["sessions.list", "sessions"],
        ["sessions.list", `sessions/${encodeURIComponent(mainKey)}`],
        ["chat.history", `sessions/${encodeURIComponent(key)}/history`]
      ]
      for (const [method, route] of reads) {
        const calls = simulator.countOf(method)
        simulator.inject({ method, error: closing })
        const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/${route}`)
        expect(answer.status, `${route}: ${JSON.stringify(answer.body)}`).toBe(200)
        expect(simulator.countOf(method) - calls, route).toBe(2)
      }
      simulator.inject({ method: "sessions.list", error: closing })
      const status = await service.api("GET", `/api/v1/gateways/${gatewayId}/status`)
      expect(status.body).toMatchObject({ connected: true, error: null })
    })

    it("waits the gateway's retryAfterMs before asking again", async () => {
      simulator.inject({ method: "chat.history", error: { ...closing, retryAfterMs: 600 } })
      const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/history`)
      expect(answer.status).toBe(200)
      const [refused, retried] = simulator.calls.filter((call) => call.method === "chat.history").slice(-2)
      expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(600)
    })

    it("still answers 502 with the gateway's reason within the query timeout when it lasts", async () => {
      let lasting = true
      simulator.inject({ method: "sessions.list", error: closing, times: 1_000, when: () => lasting })
      try {
        const calls = simulator.countOf("sessions.list")
        const { value: answer, ms } = await timed(() => service.api("GET", `/api/v1/gateways/${gatewayId}/sessions`))
        expect(answer.status).toBe(502)
        expect(answer.body.detail).toBe(`gateway ${gatewayId}: sessions.list failed: sessions.list: UNAVAILABLE Agent database resources are closing`)
        expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS)
        expect(simulator.countOf("sessions.list") - calls, "asked again while the budget lasted").toBeGreaterThan(1)
      } finally {
        lasting = false
      }
    })

    it("is not retried when the gateway asks for a wait longer than the query timeout", async () => {
      const calls = simulator.countOf("chat.history")
      simulator.inject({ method: "chat.history", error: { ...closing, retryAfterMs: QUERY_TIMEOUT_MS * 2 } })
      const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/history`)
      expect(answer.status).toBe(502)
      expect(answer.body.detail).toContain("UNAVAILABLE Agent database resources are closing")
      expect(simulator.countOf("chat.history") - calls).toBe(1)
    })

    it("leaves other refusals alone: an invalid request answers 422 at once", async () => {
      const calls = simulator.countOf("chat.history")
      simulator.inject({ method: "chat.history", error: { code: "INVALID_REQUEST", message: "invalid chat.history params" } })
      const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(key)}/history`)
      expect(answer.status).toBe(422)
      expect(simulator.countOf("chat.history") - calls).toBe(1)
    })

    it("sends a message to the main session while its best-effort label keeps being refused", async () => {
      let lasting = true
      simulator.inject({ method: "sessions.patch", error: closing, times: 1_000, when: () => lasting })
      try {
        const before = chatRows(mainKey).length
        const sent = simulator.countOf("sessions.patch")
        const route = `/api/v1/gateways/${gatewayId}/sessions/${encodeURIComponent(mainKey)}/message`
        const answer = await service.api("POST", route, { content: "label refused" }, { "idempotency-key": "label-refused-1" })
        expect(answer.status, JSON.stringify(answer.body)).toBe(202)
        expect(chatRows(mainKey).slice(before).map((row) => row.content)).toEqual(["label refused"])
        // The label gave up within its share of the budget (a quarter: 375 ms here, room for two
        // tries 100 ms apart), leaving the message the rest; with the whole budget it tries 3-4 times.
        expect(simulator.countOf("sessions.patch") - sent).toBeLessThanOrEqual(2)
      } finally {
        lasting = false
      }
    })

    it("sends a refused chat.send again under its idempotency key: one message", async () => {
      const before = chatRows(key).length
      simulator.inject({ method: "chat.send", error: closing })
      const answer = await sendTo("after a refusal", "refused-once-1")
      expect(answer.status, JSON.stringify(answer.body)).toBe(202)
      expect(answer.body).toMatchObject({ idempotency_key: "refused-once-1", status: "started" })
      expect(chatRows(key).slice(before).map((row) => row.content)).toEqual(["after a refusal"])
    })

    it("sends a chat.send refused before it was taken (a failed run marked retryable) again: one message", async () => {
      const before = chatRows(key).length
      // The gateway's pre-ack "client-retry" answer (docs/gateway-protocol.md §9): it carries the run, yet nothing was taken.
      const rebuilding = "SessionTranscriptProjectionUnavailableError: Session transcript projection is rebuilding: s-1"
      simulator.inject({
        method: "chat.send",
        error: { code: "UNAVAILABLE", message: rebuilding, retryable: true, retryAfterMs: 250 },
        payload: { runId: "rebuilding-1", status: "error", summary: rebuilding }
      })
      const answer = await sendTo("not taken at first", "rebuilding-1")
      expect(answer.status, JSON.stringify(answer.body)).toBe(202)
      expect(answer.body).toMatchObject({ idempotency_key: "rebuilding-1", status: "started" })
      expect(chatRows(key).slice(before).map((row) => row.content)).toEqual(["not taken at first"])
    })

    it("sends a chat.send whose answer was lost again under its idempotency key: one message, in flight", async () => {
      const before = chatRows(key).length
      // The gateway takes the message, then restarts (1012) before answering.
      simulator.inject({ method: "chat.send", closeWith: 1012, handled: true })
      const answer = await sendTo("answer lost", "lost-answer-1")
      expect(answer.status, JSON.stringify(answer.body)).toBe(202)
      expect(answer.body).toMatchObject({ idempotency_key: "lost-answer-1", status: "in_flight" })
      expect(chatRows(key).slice(before).map((row) => row.content)).toEqual(["answer lost"])
      const sends = simulator.calls.filter((call) => call.method === "chat.send" && (call.params as { idempotencyKey?: string }).idempotencyKey === "lost-answer-1")
      expect(sends).toHaveLength(2)
    })

    it("keeps 409 for a key reused for another message, at once", async () => {
      expect((await sendTo("the first", "reused-key-1")).status).toBe(202)
      const calls = simulator.countOf("chat.send")
      const reused = await sendTo("another", "reused-key-1")
      expect(reused.status).toBe(409)
      expect(simulator.countOf("chat.send") - calls).toBe(1)
    })
  })

  describe("GET /gateways/{id}/commands", () => {
    it("lists the methods and events the gateway advertised in hello-ok, not a static list", async () => {
      const answer = await service.api("GET", `/api/v1/gateways/${gatewayId}/commands`)
      expect(answer.status).toBe(200)
      expect(answer.body.protocol_version).toBe(4)
      expect(answer.body.methods).toEqual(SIMULATED_METHODS)
      expect(answer.body.events).toContain("tick")
    })
  })
})
