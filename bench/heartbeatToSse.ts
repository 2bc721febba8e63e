/**
 * Heartbeat → push-stream latency with 1,000 agents, and prints p50/p99/max beside Mission
 * Control's polling design. 1,000 agents are provisioned through `POST /agents` against the
 * simulator (1 ms a call) and brought online with a first heartbeat; then one SSE client
 * listens on `GET /agents/stream` while agents heartbeat (`POST /agent/heartbeat`, their own
 * token) at a steady rate, round-robin. Latency is from just before the POST to the arrival of
 * the SSE event carrying that heartbeat's version. Service, simulator and both clients share
 * this one process (and its event loop), as in the other benchmarks.
 * `--rate N` heartbeats per second (default 100: each of the 1,000 agents every 10 s),
 * `--seconds N` (default 20), `--agents N` (default 1,000).
 */
import { Sse } from "@effect/experimental"
import pg from "pg"
import { readAuthToken } from "../src/templates/readAuthToken.ts"
import { createTestDatabase } from "../test/support/database.ts"
import { registerGatewayAndBoard, startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../test/support/inProcessService.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { percentile, pool } from "./common.ts"

const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}
const AGENTS = flag("--agents", 1_000)
const IN_FLIGHT = 100
const RATE = flag("--rate", 100)
const SECONDS = flag("--seconds", 20)

/** One statement on its own connection to `url`; its rows. */
const adminQuery = async (url: string, sql: string): Promise<Array<Record<string, unknown>>> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows
  } finally {
    await client.end()
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, millis)))

interface Agent {
  readonly id: string
  readonly gateway_agent_id: string
  readonly state: string
}

const listAgents = async (service: InProcessService, boardId: string): Promise<Array<Agent>> => {
  const pages = await Promise.all(
    Array.from({ length: Math.ceil(AGENTS / 200) }, (_, page) => service.api("GET", `/api/v1/agents?board_id=${boardId}&limit=200&offset=${page * 200}`))
  )
  return pages.flatMap((answer) => answer.body.items as Array<Agent>)
}

/** One SSE client: the arrival time (performance.now) of each `agentId:version`. */
const listen = async (url: string) => {
  const arrivals = new Map<string, number>()
  const controller = new AbortController()
  const response = await fetch(`${url}/api/v1/agents/stream`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, signal: controller.signal })
  if (response.status !== 200 || response.body === null) throw new Error(`stream: ${response.status}`)
  let arrivedAt = 0
  const parser = Sse.makeParser((event) => {
    if (event._tag !== "Event") return
    const data = JSON.parse(event.data) as { version: number; agent: { id: string } }
    arrivals.set(`${data.agent.id}:${data.version}`, arrivedAt)
  })
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        // Every event of a chunk arrived when the chunk did.
        arrivedAt = performance.now()
        parser.feed(decoder.decode(value, { stream: true }))
      }
    } catch {
      // closed
    }
  })()
  return { arrivals, close: async () => (controller.abort(), await pump) }
}

const heartbeat = async (url: string, token: string) => {
  const response = await fetch(`${url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json", "x-agent-token": token }, body: "{}" })
  const body = (await response.json()) as { id: string; version: number }
  if (response.status !== 200) throw new Error(`heartbeat: ${response.status} ${JSON.stringify(body)}`)
  return body
}

export const heartbeatToSse = async () => {
  const simulator = await startGatewaySimulator({ latencyMs: 1 })
  const db = await createTestDatabase()
  // Counts the change feed's frontier calls (printed once the service's connections have closed).
  await adminQuery(db.url, `alter database ${new URL(db.url).pathname.slice(1)} set track_functions = 'pl'`)
  const service = await startInProcessService(db.url, { checkinTimeoutMs: 3_600_000, offlineAfterMs: 3_600_000 })
  try {
    const { boardId } = await registerGatewayAndBoard(service, simulator, "bench")
    const provisionStarted = Date.now()
    await pool(AGENTS, IN_FLIGHT, async (i) => {
      const created = await service.api("POST", "/api/v1/agents", { name: `bench-${i}`, board_id: boardId })
      if (created.status !== 201) throw new Error(`agent ${i}: ${created.status} ${JSON.stringify(created.body)}`)
    })
    let agents = await listAgents(service, boardId)
    while (agents.length < AGENTS || agents.some((agent) => agent.state !== "provisioning.awaiting")) {
      if (agents.some((agent) => agent.state.endsWith("failed"))) throw new Error("an agent failed to provision")
      await sleep(250)
      agents = await listAgents(service, boardId)
    }
    const provisionMs = Date.now() - provisionStarted
    const tokens = agents.map((agent) => {
      const token = readAuthToken(simulator.state.files.get(agent.gateway_agent_id)?.get("AGENTS.md") ?? "")
      if (token === undefined) throw new Error(`no token in the AGENTS.md of ${agent.gateway_agent_id}`)
      return token
    })
    // Everyone online first (provisioning.awaiting → online); not measured.
    await pool(AGENTS, IN_FLIGHT, async (i) => void (await heartbeat(service.url, tokens[i]!)))

    const client = await listen(service.url)
    const sent: Array<{ key: Promise<string>; at: number; answeredAt: Promise<number> }> = []
    const interval = 1_000 / RATE
    const total = Math.round(RATE * SECONDS)
    const started = performance.now()
    for (let i = 0; i < total; i++) {
      await sleep(started + i * interval - performance.now())
      const at = performance.now()
      const answer = heartbeat(service.url, tokens[i % AGENTS]!)
      sent.push({ at, key: answer.then((body) => `${body.id}:${body.version}`), answeredAt: answer.then(() => performance.now()) })
    }
    const sendMs = performance.now() - started
    const keys = await Promise.all(sent.map((beat) => beat.key))
    const answered = await Promise.all(sent.map((beat) => beat.answeredAt))
    const deadline = Date.now() + 10_000
    while (keys.some((key) => !client.arrivals.has(key)) && Date.now() < deadline) await sleep(20)
    await client.close()
    const latencies = keys.flatMap((key, i) => {
      const arrived = client.arrivals.get(key)
      return arrived === undefined ? [] : [arrived - sent[i]!.at]
    })
    const posts = answered.map((at, i) => at - sent[i]!.at)
    const mean = latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length)
    console.log(`heartbeat → SSE event, ${AGENTS} agents online, one SSE client, ${total} heartbeats at ${RATE}/s (sent in ${(sendMs / 1000).toFixed(1)} s)`)
    console.log(`  provisioning ${AGENTS} agents through POST /agents (${IN_FLIGHT} in flight): ${provisionMs} ms`)
    console.log(`  POST /agent/heartbeat answered: p50 ${ms(percentile(posts, 50))}, p99 ${ms(percentile(posts, 99))}`)
    console.log(`  heartbeat POST → SSE event: p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(Math.max(...latencies))}, mean ${ms(mean)}; delivered ${latencies.length}/${total}`)
    console.log(`  polling design: 2000 ms interval → mean ~1000 ms, worst ~2000 ms (Mission Control, docs/operations.md §6.13; plus one DB query per client every 2 s)`)
  } finally {
    await service.stop()
    const calls = await adminQuery(
      db.url,
      "select p.oid::regprocedure::text as fn, coalesce(s.calls, 0)::text as calls from pg_proc p left join pg_stat_user_functions s on s.funcid = p.oid where p.proname = 'agent_changes_frontier' order by 1"
    ).catch(() => [])
    console.log(`  frontier calls (the feed's reads pass the notified floor; the exact one also serves replays and catch-ups): ${calls.map((row) => `${row["fn"]} ${row["calls"]}`).join(", ")}`)
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await heartbeatToSse()
