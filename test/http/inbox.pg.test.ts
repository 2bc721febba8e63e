import { createHash } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, type InProcessService } from "../support/inProcessService.ts"
import { startService } from "../support/serviceProcess.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { callWith, createFleet, issueInboxKey, type Fleet } from "./agentFleet.ts"

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")
const BASE_URL = "https://switchyard.example.test"

interface Polled {
  readonly id: string
  readonly kind: string
  readonly content: string
  readonly sender: { kind: string; agent_id: string | null; name: string | null }
  readonly reply_to: string | null
  readonly attempts: number
  readonly lease_expires_at: string
  readonly history: Array<{ id: string; content: string; sender: { name: string | null } }>
}

/** The inbox as one agent sees it, over HTTP with its `X-Api-Key`. */
const inboxClient = (service: () => InProcessService | { url: string }, key: () => string) => {
  const call = (method: string, route: string, body?: unknown) => callWith(service().url, method, route, { "x-api-key": key() }, body)
  return {
    call,
    poll: async (limit?: number) => {
      const answer = await call("GET", `/api/gateway/poll${limit === undefined ? "" : `?limit=${limit}`}`)
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
      return answer.body as { agent_id: string; lease_ms: number; messages: Array<Polled>; contacts: Array<{ id: string; name: string; role: string }> }
    },
    send: (to: string, content: string, idempotencyKey?: string) =>
      call("POST", "/api/gateway/send-message", { to, content, ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }) }),
    report: (messageId: string, result: string) => call("POST", "/api/gateway/report", { message_id: messageId, result })
  }
}
type InboxClient = ReturnType<typeof inboxClient>

/** Polls and reports everything waiting, so the next test starts from an empty inbox. */
const drain = async (inbox: InboxClient) => {
  for (const message of (await inbox.poll(100)).messages) expect((await inbox.report(message.id, "drained")).status).toBe(200)
}

describe("agent inbox: keys, poll, report, send-message, heartbeat, setup guide, activity (in-process service, simulated gateway)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let client: pg.Client
  let fleet: Fleet
  const keys: Record<string, string> = {}
  const inboxOf = (name: keyof Fleet["agents"]) => inboxClient(() => service, () => keys[name]!)

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, { baseUrl: BASE_URL, checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50 })
    fleet = await createFleet(service, simulator)
    for (const name of ["main", "awayMain", "lead", "ada", "bob", "carol", "dave"] as const) keys[name] = await issueInboxKey(service, fleet.agents[name].id)
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
  })

  afterAll(async () => {
    await client?.end()
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("an inbox key is oc- + 32 random bytes, shown once, stored as its sha256 only; rotation retires the old key", async () => {
    const bobby = fleet.agents.bobby
    const first = await service.api("POST", `/api/v1/agents/${bobby.id}/api-key`)
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ agent_id: bobby.id, rotated: false })
    expect(first.body.api_key).toMatch(/^oc-[A-Za-z0-9_-]{43}$/)
    const { rows } = await client.query("select agent_id, key_hash, to_jsonb(k)::text as whole from agent_api_keys k where agent_id = $1", [bobby.id])
    expect(rows).toEqual([expect.objectContaining({ agent_id: bobby.id, key_hash: sha256(first.body.api_key) })])
    expect(rows[0].whole).not.toContain(first.body.api_key.slice(3))
    // Shown once: nothing that reads the agent back carries it.
    expect(JSON.stringify((await service.api("GET", `/api/v1/agents/${bobby.id}`)).body)).not.toContain(first.body.api_key)
    expect(JSON.stringify((await service.api("GET", `/api/v1/activity?agent_id=${bobby.id}`)).body)).not.toContain(first.body.api_key)

    const rotated = await service.api("POST", `/api/v1/agents/${bobby.id}/api-key`)
    expect(rotated.status).toBe(201)
    expect(rotated.body.rotated).toBe(true)
    expect(rotated.body.api_key).not.toBe(first.body.api_key)
    keys["bobby"] = rotated.body.api_key
    const oldKey = inboxClient(() => service, () => first.body.api_key)
    expect((await oldKey.call("GET", "/api/gateway/poll")).status).toBe(401)
    expect((await inboxOf("bobby").poll()).agent_id).toBe(bobby.id)
    // The stored hash is not a key (docs/operations.md §6.16).
    const hashAsKey = inboxClient(() => service, () => sha256(rotated.body.api_key))
    expect((await hashAsKey.call("GET", "/api/gateway/poll")).status).toBe(401)
    expect((await service.api("POST", `/api/v1/agents/${crypto.randomUUID()}/api-key`)).status).toBe(404)
  })

  it("poll leases each pending message (attempts, lease_expires_at) and hands out the agent's contacts; a second poll in the lease gets nothing", async () => {
    const { ada, bob, bobby, lead } = fleet.agents
    const sent = await inboxOf("ada").send("Bob", "hello Bob")
    expect(sent.status).toBe(202)
    expect(sent.body).toMatchObject({ status: "accepted", to: { id: bob.id, name: "Bob" }, replayed: false })
    const before = Date.now()
    const polled = await inboxOf("bob").poll()
    expect(polled.lease_ms).toBe(60_000)
    expect(polled.messages).toHaveLength(1)
    const [message] = polled.messages
    expect(message).toMatchObject({ id: sent.body.message_id, kind: "inbox.message", content: "hello Bob", attempts: 1, reply_to: null, history: [] })
    expect(message!.sender).toEqual({ kind: "agent", agent_id: ada.id, name: "Ada" })
    const leaseLeft = Date.parse(message!.lease_expires_at) - before
    expect(leaseLeft).toBeGreaterThan(50_000)
    expect(leaseLeft).toBeLessThan(70_000)
    const { rows } = await client.query("select status, attempts, lease_expires_at from messages where id = $1", [message!.id])
    expect(rows[0]).toMatchObject({ status: "leased", attempts: 1 })
    expect((await inboxOf("bob").poll()).messages).toEqual([])
    // A board agent's contacts are its board; the main agent's, its whole gateway.
    expect(polled.contacts.map((contact) => contact.name)).toEqual(["Ada", "Bobby", "Lead"])
    expect(polled.contacts.map((contact) => contact.id)).toEqual([ada.id, bobby.id, lead.id])
    expect((await inboxOf("main").poll()).contacts.map((contact) => contact.name)).toEqual(["Ada", "Bob", "Bobby", "Carol", "Lead"])
    expect((await inboxOf("awayMain").poll()).contacts.map((contact) => contact.name)).toEqual(["Dave"])
    expect((await inboxOf("bob").report(message!.id, "hi Ada")).status).toBe(200)
    await drain(inboxOf("ada"))
  })

  it("report: the same result twice is ok, a different one is 409, and the result reaches the sending agent's inbox once, as a reply", async () => {
    const sent = await inboxOf("ada").send("Bob", "what is 2+2?")
    const [message] = (await inboxOf("bob").poll()).messages
    expect(message!.id).toBe(sent.body.message_id)
    // The conversation so far comes with it: the earlier message and its reply.
    expect(message!.history.map((entry) => entry.content)).toEqual(["hello Bob", "hi Ada"])
    const first = await inboxOf("bob").report(message!.id, "4")
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ status: "ok", message_id: message!.id, replayed: false, reply_message_id: expect.any(String) })
    const again = await inboxOf("bob").report(message!.id, "4")
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ status: "ok", replayed: true, reply_message_id: first.body.reply_message_id })
    const different = await inboxOf("bob").report(message!.id, "5")
    expect(different.status).toBe(409)
    expect(different.body.detail).toContain("different result")
    const { rows } = await client.query("select status, result, delivered_at from messages where id = $1", [message!.id])
    expect(rows[0]).toMatchObject({ status: "delivered", result: "4" })

    const replies = (await inboxOf("ada").poll()).messages
    expect(replies).toHaveLength(1)
    expect(replies[0]).toMatchObject({ id: first.body.reply_message_id, kind: "inbox.reply", content: "4", reply_to: message!.id })
    expect(replies[0]!.sender).toMatchObject({ kind: "agent", agent_id: fleet.agents.bob.id, name: "Bob" })
    expect(replies[0]!.history.map((entry) => entry.content)).toContain("what is 2+2?")
    // Reporting a reply sends nothing back: two agents would otherwise acknowledge each other forever.
    const acknowledged = await inboxOf("ada").report(replies[0]!.id, "thanks")
    expect(acknowledged.body.reply_message_id).toBeNull()
    expect((await inboxOf("bob").poll()).messages).toEqual([])
  })

  it("report: a message that is not the caller's is 404, whoever's it is; a bad body is 422", async () => {
    const sent = await inboxOf("ada").send("Bob", "only for Bob")
    await inboxOf("bob").poll()
    const notYours = await inboxOf("ada").report(sent.body.message_id, "mine now")
    expect(notYours.status).toBe(404)
    expect(notYours.body.detail).toContain("in your inbox")
    expect((await inboxOf("bob").report(crypto.randomUUID(), "x")).status).toBe(404)
    expect((await inboxOf("bob").call("POST", "/api/gateway/report", { message_id: "nope", result: "x" })).status).toBe(422)
    expect((await inboxOf("bob").call("POST", "/api/gateway/report", { message_id: sent.body.message_id })).status).toBe(422)
    expect((await inboxOf("bob").report(sent.body.message_id, "done")).status).toBe(200)
  })

  it("send-message reaches a contact by exact name (any case) within the sender's scope; near matches, other boards and other gateways are 404", async () => {
    const { bob, carol, dave, lead } = fleet.agents
    const exact = await inboxOf("ada").send("bOB", "case does not matter")
    expect(exact.status).toBe(202)
    expect(exact.body.to).toMatchObject({ id: bob.id, name: "Bob" })
    // `Bobby` exists too: an exact name never reaches a longer one, and a prefix reaches nobody.
    for (const near of ["Bo", "Bobb", "ob", "%", "Bo%", "_ob", "B*"]) {
      const missed = await inboxOf("ada").send(near, "near match")
      expect(missed.status, near).toBe(404)
      expect(missed.body.detail).toContain(`no agent named exactly "${near}" among your contacts (the agents of your board)`)
    }
    expect((await inboxOf("ada").send("Ada", "to myself")).status).toBe(404)
    expect((await inboxOf("ada").send("Carol", "other board")).status).toBe(404)
    expect((await inboxOf("ada").send("Dave", "other gateway")).status).toBe(404)
    expect((await inboxOf("ada").send("Lead", "my lead")).body.to.id).toBe(lead.id)
    // The main agent reaches its gateway's boards, never another gateway.
    expect((await inboxOf("main").send("Carol", "from main")).body.to.id).toBe(carol.id)
    const elsewhere = await inboxOf("main").send("Dave", "from main")
    expect(elsewhere.status).toBe(404)
    expect(elsewhere.body.detail).toContain("(the agents of your gateway)")
    expect((await inboxOf("awayMain").send("Ada", "cross gateway")).status).toBe(404)
    expect((await inboxOf("awayMain").send("dave", "own gateway")).body.to.id).toBe(dave.id)
    expect((await inboxOf("ada").call("POST", "/api/gateway/send-message", { target: "Bob", content: "Clawith's field name" })).status).toBe(422)

    expect((await inboxOf("bob").poll()).messages.map((message) => message.content)).toEqual(["case does not matter"])
    expect((await inboxOf("carol").poll()).messages.map((message) => message.sender.name)).toEqual([fleet.agents.main.name])
    for (const name of ["bob", "lead", "dave"] as const) await drain(inboxOf(name))
  })

  it("a replayed idempotency key sends once; the same key for a different message is 409; keys are per sender", async () => {
    const first = await inboxOf("ada").send("Lead", "status?", "status-1")
    const replay = await inboxOf("ada").send("lead", "status?", "status-1")
    expect(first.status).toBe(202)
    expect(replay.status).toBe(202)
    expect(replay.body).toMatchObject({ message_id: first.body.message_id, replayed: true })
    const changed = await inboxOf("ada").send("Lead", "status now?", "status-1")
    expect(changed.status).toBe(409)
    const fromBob = await inboxOf("bob").send("Lead", "status?", "status-1")
    expect(fromBob.body.replayed).toBe(false)
    expect(fromBob.body.message_id).not.toBe(first.body.message_id)
    const received = (await inboxOf("lead").poll()).messages
    expect(received.map((message) => [message.sender.name, message.content])).toEqual([
      ["Ada", "status?"],
      ["Bob", "status?"]
    ])
    await Promise.all(received.map((message) => inboxOf("lead").report(message.id, "fine")))
    await drain(inboxOf("ada"))
    await drain(inboxOf("bob"))
  })

  it("concurrent polls never hand one message to two pollers within a lease", async () => {
    const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => inboxOf("ada").send("Bobby", `job ${i}`, `job-${i}`)))
    expect(sent.every((answer) => answer.status === 202)).toBe(true)
    const polls = await Promise.all(Array.from({ length: 6 }, () => inboxOf("bobby").poll(4)))
    const ids = polls.flatMap((poll) => poll.messages.map((message) => message.id))
    expect(ids).toHaveLength(12)
    expect(new Set(ids).size).toBe(12)
    expect(new Set(ids)).toEqual(new Set(sent.map((answer) => answer.body.message_id)))
    const { rows } = await client.query("select attempts, status from messages where id = any($1)", [ids])
    expect(rows.every((row) => row.attempts === 1 && row.status === "leased")).toBe(true)
    await Promise.all(ids.map((id) => inboxOf("bobby").report(id, "done")))
    await drain(inboxOf("ada"))
  })

  it("heartbeat is an agent.heartbeat event: the agent checks in; only the inbox key may send it", async () => {
    const { bob } = fleet.agents
    const beat = await inboxOf("bob").call("POST", "/api/gateway/heartbeat")
    expect(beat.status).toBe(200)
    expect(beat.body).toEqual({ status: "ok", agent_id: bob.id })
    await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${bob.id}`)).body.state, { timeout: 10_000, interval: 50 }).toBe("online")
    expect((await callWith(service.url, "POST", "/api/gateway/heartbeat", { "x-agent-token": bob.token })).status).toBe(403)
    expect((await service.api("POST", "/api/gateway/heartbeat")).status).toBe(403)
    expect((await callWith(service.url, "POST", "/api/gateway/heartbeat", {})).status).toBe(401)
  })

  it("setup guide: the skill file with the service's configured base URL and the heartbeat line, for that agent's key or the admin", async () => {
    const { ada, bob } = fleet.agents
    const guide = await inboxOf("bob").call("GET", `/api/gateway/setup-guide/${bob.id}`)
    expect(guide.status).toBe(200)
    expect(guide.body).toMatchObject({ skill_filename: "switchyard_inbox.md", base_url: BASE_URL, heartbeat_addition: expect.stringContaining("switchyard_inbox") })
    const skill = guide.body.skill_content as string
    expect(skill).toContain(`export SWITCHYARD_URL="${BASE_URL}"`)
    for (const route of ["/api/gateway/poll", "/api/gateway/report", "/api/gateway/heartbeat", "/api/gateway/send-message"]) expect(skill).toContain(route)
    expect(skill).toContain("Bob")
    expect(skill).toContain(bob.id)
    expect(skill).toContain("60 seconds")
    expect(skill).not.toContain(keys["bob"])
    expect((await inboxOf("bob").call("GET", `/api/gateway/setup-guide/${ada.id}`)).status).toBe(403)
    expect((await service.api("GET", `/api/gateway/setup-guide/${ada.id}`)).body.skill_content).toContain("Ada")
    expect((await service.api("GET", `/api/gateway/setup-guide/${crypto.randomUUID()}`)).status).toBe(404)
    expect((await callWith(service.url, "GET", `/api/gateway/setup-guide/${bob.id}`, {})).status).toBe(401)
  })

  it("activity feed: lifecycle and coordination entries, paginated; the admin filters by agent and board, an agent sees only its own", async () => {
    const { ada, bob } = fleet.agents
    const all = await service.api("GET", "/api/v1/activity?limit=200")
    expect(all.status).toBe(200)
    const types = new Set(all.body.items.map((item: { event_type: string }) => item.event_type))
    for (const type of ["agent.created", "inbox.key_created", "inbox.key_rotated", "inbox.sent", "inbox.reported"]) expect(types).toContain(type)
    expect(all.body.total).toBeGreaterThanOrEqual(all.body.items.length)

    const page1 = await service.api("GET", "/api/v1/activity?limit=3&offset=0")
    const page2 = await service.api("GET", "/api/v1/activity?limit=3&offset=3")
    expect(page1.body).toMatchObject({ limit: 3, offset: 0, total: all.body.total })
    expect(page2.body).toMatchObject({ limit: 3, offset: 3, total: all.body.total })
    const ids = [...page1.body.items, ...page2.body.items].map((item: { id: number }) => item.id)
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    expect(new Set(ids).size).toBe(6)

    const adas = await service.api("GET", `/api/v1/activity?agent_id=${ada.id}&limit=200`)
    expect(adas.body.items.length).toBeGreaterThan(1)
    expect(adas.body.items.every((item: { agent_id: string }) => item.agent_id === ada.id)).toBe(true)
    const side = await service.api("GET", `/api/v1/activity?board_id=${fleet.boards.side}`)
    expect(side.body.items.length).toBeGreaterThan(0)
    expect(side.body.items.every((item: { board_id: string }) => item.board_id === fleet.boards.side)).toBe(true)

    const own = await callWith(service.url, "GET", "/api/v1/activity?limit=200", { "x-agent-token": ada.token })
    expect(own.status).toBe(200)
    expect(own.body).toEqual(adas.body)
    expect((await callWith(service.url, "GET", `/api/v1/activity?agent_id=${ada.id}&limit=200`, { "x-agent-token": ada.token })).body).toEqual(adas.body)
    expect((await callWith(service.url, "GET", `/api/v1/activity?agent_id=${bob.id}`, { "x-agent-token": ada.token })).status).toBe(403)
    expect((await inboxOf("ada").call("GET", "/api/v1/activity")).status).toBe(401)
    expect((await callWith(service.url, "GET", "/api/v1/activity", {})).status).toBe(401)
    expect((await service.api("GET", "/api/v1/activity?limit=0")).status).toBe(422)
  })

  it("a deleted agent's inbox key stops working, and nobody can message it any more", async () => {
    const { dave } = fleet.agents
    expect((await service.api("DELETE", `/api/v1/agents/${dave.id}`)).status).toBeLessThan(300)
    await expect.poll(async () => (await inboxOf("dave").call("GET", "/api/gateway/poll")).status, { timeout: 30_000, interval: 100 }).toBe(401)
    expect((await inboxOf("awayMain").send("Dave", "are you there?")).status).toBe(404)
    expect((await inboxOf("awayMain").poll()).contacts).toEqual([])
  })
})

/** `AppConfigTest`'s fixed secret key, so a child service reads the gateway secrets the in-process one stored. */
const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString("base64")
const LEASE_MS = 1_500

describe("agent inbox: at least once with a lease (short lease, a crash between poll and report)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let service: InProcessService
  let fleet: Fleet
  const keys: Record<string, string> = {}
  const overrides = { inboxLeaseMs: LEASE_MS, checkinTimeoutMs: 300_000, offlineAfterMs: 300_000, retryBaseMs: 50 }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    service = await startInProcessService(db.url, overrides)
    fleet = await createFleet(service, simulator)
    for (const name of ["ada", "bob"] as const) keys[name] = await issueInboxKey(service, fleet.agents[name].id)
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await db?.drop()
  })

  it("a message polled but not reported before its lease ends is delivered again by a later poll", async () => {
    const ada = inboxClient(() => service, () => keys["ada"]!)
    const bob = inboxClient(() => service, () => keys["bob"]!)
    const sent = await ada.send("Bob", "do this once")
    const first = await bob.poll()
    expect(first.messages.map((message) => [message.id, message.attempts])).toEqual([[sent.body.message_id, 1]])
    // The agent "crashed": no report. Within the lease nobody gets it; after it, the next poll does.
    await expect
      .poll(async () => (await bob.poll()).messages.map((message) => [message.id, message.attempts]), { timeout: 10_000, interval: 200 })
      .toEqual([[sent.body.message_id, 2]])
    expect((await bob.report(sent.body.message_id, "done")).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 300))
    expect((await bob.poll()).messages).toEqual([])
    await drain(ada)
  })

  it("no message is lost when the service is killed between poll and report: after a restart and the lease, it is polled again", async () => {
    const ada = inboxClient(() => service, () => keys["ada"]!)
    const sent = await ada.send("Bob", "survive a crash")
    expect(sent.status).toBe(202)
    await service.stop()
    const child = await startService({
      DATABASE_URL: db.url,
      SWITCHYARD_SECRET_KEY: TEST_SECRET_KEY,
      SWITCHYARD_INBOX_LEASE_MS: String(LEASE_MS),
      SWITCHYARD_DATA_DIR: mkdtempSync(path.join(tmpdir(), "sy-inbox-crash-"))
    })
    try {
      const bobOnChild = inboxClient(() => child, () => keys["bob"]!)
      const polled = await bobOnChild.poll()
      expect(polled.messages.map((message) => [message.id, message.attempts])).toEqual([[sent.body.message_id, 1]])
    } finally {
      // A crash between the poll and the report: nothing marks the message delivered.
      await child.kill("SIGKILL")
    }
    service = await startInProcessService(db.url, overrides)
    const bob = inboxClient(() => service, () => keys["bob"]!)
    await expect
      .poll(async () => (await bob.poll()).messages.map((message) => [message.id, message.content, message.attempts]), { timeout: 15_000, interval: 200 })
      .toEqual([[sent.body.message_id, "survive a crash", 2]])
    const reported = await bob.report(sent.body.message_id, "survived")
    expect(reported.status).toBe(200)
    expect((await ada.poll()).messages.map((message) => [message.reply_to, message.content])).toEqual([[sent.body.message_id, "survived"]])
  })
})
