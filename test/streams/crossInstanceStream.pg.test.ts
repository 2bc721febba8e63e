import { Sse } from "@effect/experimental"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentChangeEvent } from "../../src/streams/http/TransitionView.ts"
import { createAgent, heartbeat, simulatorToken } from "../support/cluster/clusterFleet.ts"
import { ownedFleet, type OwnedFleet } from "../support/cluster/ownedFleet.ts"
import { startCluster, type TestCluster } from "../support/cluster/startCluster.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * The change stream across two service processes under load (docs/architecture.md §8.1): two
 * real instances on one database; heartbeats at about 1,000/s go into the gateway's owner, an SSE
 * client listens on the other instance, and agents created meanwhile add state changes. The
 * client (resuming from the cursor at which the load starts) must get every change once and in
 * cursor order (every transition, and each agent's newest beat), and a resume with `Last-Event-ID` from any cursor it got must give exactly the
 * changes still stored after it. A correctness test: the rate is a load, not a bar (the latency
 * figure is `npm run bench -- heartbeatThroughput`).
 */

const AGENTS = 20
const RATE = 1_000
const SECONDS = 1
const IN_FLIGHT = 64

interface Received {
  readonly cursor: number
  readonly data: AgentChangeEvent
}

/** An SSE client on `GET /agents/stream` (with `Last-Event-ID` when given), collecting events. */
const listen = async (url: string, adminToken: string, lastEventId?: number) => {
  const controller = new AbortController()
  const response = await fetch(`${url}/api/v1/agents/stream`, {
    headers: { authorization: `Bearer ${adminToken}`, ...(lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) }) },
    signal: controller.signal
  })
  expect(response.status).toBe(200)
  const events: Array<Received> = []
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event" && event.event === "agent") events.push({ cursor: Number(event.id), data: JSON.parse(event.data) as AgentChangeEvent })
  })
  const pump = (async () => {
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        parser.feed(decoder.decode(value, { stream: true }))
      }
    } catch {
      // Aborted by close().
    }
  })()
  return { events, close: async () => (controller.abort(), await pump) }
}

const isBeat = (event: Received) => event.data.transition.from === event.data.transition.to

describe("change stream across two service processes at about 1,000 heartbeats/s", () => {
  let simulator: GatewaySimulator
  let cluster: TestCluster
  let fleet: OwnedFleet
  let db: pg.Client

  beforeAll(async () => {
    simulator = await startGatewaySimulator({ latencyMs: 1 })
    cluster = await startCluster({ env: { SWITCHYARD_CHECKIN_TIMEOUT_MS: "3600000", SWITCHYARD_OFFLINE_AFTER_MS: "3600000" } })
    fleet = await ownedFleet(cluster, simulator, AGENTS)
    db = new pg.Client({ connectionString: cluster.databaseUrl })
    await db.connect()
  }, 300_000)

  afterAll(async () => {
    await db?.end()
    await cluster?.close()
    await simulator?.stop()
  })

  it("every change once, in cursor order, on the other instance; a resume from any cursor gives exactly what followed", async () => {
    const owner = cluster.service(fleet.owner.index)
    const other = cluster.service(fleet.other.index)
    // Everything stored before the stream opened is history, not part of this test.
    const [{ start }] = (await db.query<{ start: string }>("select (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16) - 1 as start")).rows as [{ start: string }]
    // From the start cursor: whatever commits before the live subscription is in place comes by replay.
    const live = await listen(other.url, other.adminToken, Number(start))

    // State changes during the load: agents created through the owner, each brought online.
    const changing = (async () => {
      for (let i = 0; i < 3; i++) {
        const agent = await createAgent(owner, fleet.boardId, `late-${i}`)
        expect((await heartbeat(owner.url, simulatorToken(simulator, agent.gateway_agent_id))).status).toBe(200)
      }
    })()
    // About RATE heartbeats per second into the owner, round-robin, at most IN_FLIGHT at once.
    const total = RATE * SECONDS
    const started = performance.now()
    let next = 0
    let accepted = 0
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < total) {
          const i = next++
          const due = started + (i * 1_000) / RATE - performance.now()
          if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
          const answer = await heartbeat(owner.url, fleet.agents[i % AGENTS]!.token)
          if (answer.status === 200) accepted++
        }
      })
    )
    await changing
    const rate = accepted / ((performance.now() - started) / 1_000)
    expect(accepted).toBe(total)

    // Until the client has every change stored: each transition since the start, and each agent's newest beat.
    const transitions = async () =>
      (await db.query<{ id: string }>("select id from agent_transitions where id > $1 order by id", [start])).rows.map((row) => Number(row.id))
    const beats = async () => (await db.query<{ cursor: string }>("select cursor from agent_beats where cursor > $1", [start])).rows.map((row) => Number(row.cursor))
    const storedNow = async () => [...(await transitions()), ...(await beats())]
    await expect.poll(async () => (await storedNow()).every((cursor) => live.events.some((event) => event.cursor === cursor)), { timeout: 30_000, interval: 250 }).toBe(true)
    await live.close()

    const cursors = live.events.map((event) => event.cursor)
    // Once each, in order.
    expect(cursors).toEqual([...new Set(cursors)].sort((x, y) => x - y))
    // Exactly the stored transitions (the late agents' creation, provisioning and first heartbeat among them), none other.
    const stored = await transitions()
    expect(live.events.filter((event) => !isBeat(event)).map((event) => event.cursor)).toEqual(stored)
    expect(stored.length).toBeGreaterThanOrEqual(3 * 3)
    // Each of the load's agents shows its newest heartbeat, at the version its last answer gave.
    const newestBeats = new Set(await beats())
    const lastVersion = new Map<string, number>()
    for (const event of live.events) lastVersion.set(event.data.agent.id, Math.max(lastVersion.get(event.data.agent.id) ?? 0, event.data.version))
    const rows = await db.query<{ id: string; version: string }>("select id, version from agents where id = any($1)", [fleet.agents.map((agent) => agent.id)])
    for (const row of rows.rows) expect(lastVersion.get(row.id), row.id).toBe(Number(row.version))

    // Resume from cursors across the run: exactly the stored changes after each (every
    // transition, and the beats still each agent's newest), nothing twice, nothing missed.
    for (const from of [cursors[0]!, cursors[Math.floor(cursors.length / 2)]!, cursors.at(-2)!]) {
      const expected = live.events.filter((event) => event.cursor > from && (!isBeat(event) || newestBeats.has(event.cursor))).map((event) => event.cursor)
      const resumed = await listen(other.url, other.adminToken, from)
      await expect.poll(() => resumed.events.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(expected.length)
      // Anything more would be a repeat or a change from after the load: there is none.
      await new Promise((resolve) => setTimeout(resolve, 300))
      await resumed.close()
      expect(resumed.events.map((event) => event.cursor), `resume after ${from}`).toEqual(expected)
    }
    console.log(`cross-instance stream: ${accepted} heartbeats at ${rate.toFixed(0)}/s accepted; ${live.events.length} changes streamed (${stored.length} transitions)`)
  }, 180_000)
})
