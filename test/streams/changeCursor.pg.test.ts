import { randomUUID } from "node:crypto"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentProjection } from "../../src/agents/agentProjection.ts"
import { GroupCommit, GroupCommitLive } from "../../src/snapshots/GroupCommit.ts"
import { SnapshotWriter } from "../../src/snapshots/SnapshotWriter.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { ActivityRepoLive } from "../../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { RANKS_PER_TRANSACTION } from "../../src/store/changeCursor.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { TransitionRepo, TransitionRepoLive, type TransitionWithAgent } from "../../src/store/TransitionRepo.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"

/**
 * The change stream's cursor without a commit lock (docs/architecture.md §8.1): two writers (two
 * runtimes, as two service instances) commit transitions and heartbeats concurrently, and one
 * transaction stays open across them; a reader that follows the frontier as the feed does must
 * get every transition exactly once, in cursor order, and each agent's newest heartbeat; a
 * resume from any cursor it gave must give exactly what followed, with nothing twice.
 */

const layer = GroupCommitLive.pipe(
  Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)),
  Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive))
)

type Runtime = ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>

const projection = (id: string, statePath: string): AgentProjection =>
  agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath, name: `agent-${id}` })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const isBeat = (change: TransitionWithAgent) => change.transition.eventType === "agent.heartbeat" && change.transition.fromState === change.transition.toState

describe("commit-ordered change cursor without a lock", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let one: Runtime
  let two: Runtime
  let client: pg.Client
  let gatewayId: string

  const runtimeOn = () => ManagedRuntime.make(layer.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))

  beforeAll(async () => {
    db = await createTestDatabase()
    one = runtimeOn()
    await one.runPromise(Effect.void)
    two = runtimeOn()
    await two.runPromise(Effect.void)
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    gatewayId = randomUUID()
    await client.query("insert into gateways (id, name, url, workspace_root) values ($1, 'gw', 'ws://127.0.0.1:1', '/tmp')", [gatewayId])
  })

  afterAll(async () => {
    await client?.end()
    await one?.dispose()
    await two?.dispose()
    await db?.drop()
  })

  const agent = async (runtime: Runtime) => {
    const id = randomUUID()
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    return { id, writer: new SnapshotWriter(id, 0, 0, (effect) => void runtime.runFork(effect)) }
  }

  const changesAfter = (cursor: number, limit = 50) => one.runPromise(Effect.flatMap(TransitionRepo, (repo) => repo.changesAfter(cursor, {}, limit)))

  it("a heartbeat that leaves the state as it was writes no transition row: one beat per agent, the newest", async () => {
    const { id, writer } = await agent(one)
    const beat = (n: number) => writer.offer({ n }, projection(id, "online"), [], { gatewayId, boardId: null, fromState: "online", toState: "online", eventType: "agent.heartbeat", errorTag: null, at: new Date(1_000 * n) })
    for (let n = 1; n <= 5; n++) await one.runPromise(writer.awaitPersisted(beat(n)))
    await one.runPromise(writer.awaitPersisted(writer.offer({ n: 6 }, projection(id, "offline"), [], { gatewayId, boardId: null, fromState: "online", toState: "offline", eventType: "deadline.reached", errorTag: null, at: new Date() })))
    const transitions = await client.query("select version, from_state, to_state from agent_transitions where agent_id = $1", [id])
    expect(transitions.rows).toEqual([{ version: "6", from_state: "online", to_state: "offline" }])
    const beats = await client.query("select version, at from agent_beats where agent_id = $1", [id])
    expect(beats.rows).toEqual([{ version: "5", at: new Date(5_000) }])
  })

  it("a gateway signal that leaves the state as it was is a beat, read back labelled with its own event type", async () => {
    const { id, writer } = await agent(one)
    const signal = (n: number, eventType: string, toState = "online") =>
      writer.offer({ n }, projection(id, toState), [], { gatewayId, boardId: null, fromState: "online", toState, eventType, errorTag: null, at: new Date(1_000 * n) })
    const before = (await changesAfter(0, 10_000)).frontier - 1
    await one.runPromise(writer.awaitPersisted(signal(1, "gateway.run.started")))
    const afterRun = (await changesAfter(before)).changes.filter((change) => change.transition.agentId === id)
    expect(afterRun.map((change) => [change.transition.fromState, change.transition.toState, change.transition.eventType, change.transition.version])).toEqual([
      ["online", "online", "gateway.run.started", "1"]
    ])
    await one.runPromise(writer.awaitPersisted(signal(2, "gateway.session.changed")))
    // An event that is not a liveness event stays a transition, even when the state is the same.
    await one.runPromise(writer.awaitPersisted(signal(3, "agent.update")))
    const transitions = await client.query("select version, event_type from agent_transitions where agent_id = $1", [id])
    expect(transitions.rows).toEqual([{ version: "3", event_type: "agent.update" }])
    expect((await client.query("select version, event_type from agent_beats where agent_id = $1", [id])).rows).toEqual([{ version: "2", event_type: "gateway.session.changed" }])
    // The replay gives the newest beat (the older one is superseded) with its event, then the transition.
    const replayed = (await changesAfter(before)).changes.filter((change) => change.transition.agentId === id)
    expect(replayed.map((change) => [change.transition.eventType, change.transition.version])).toEqual([
      ["gateway.session.changed", "2"],
      ["agent.update", "3"]
    ])
  })

  it("a write carrying more changes than one transaction can rank keeps its newest: every cursor within its transaction, ranks unique", async () => {
    const { id } = await agent(one)
    const count = RANKS_PER_TRANSACTION + 4_000
    const transitions = Array.from({ length: count }, (_, i) => ({
      gatewayId,
      boardId: null,
      version: i + 1,
      fromState: i % 2 === 0 ? "online" : "online.busy",
      toState: i % 2 === 0 ? "online.busy" : "online",
      eventType: `test.${i + 1}`,
      errorTag: null,
      at: new Date()
    }))
    const beat = { gatewayId, boardId: null, eventType: "agent.heartbeat", at: new Date() }
    const write = { agentId: id, version: count + 1, projection: projection(id, "online"), snapshot: { n: count + 1 }, activity: [], transitions, beat, pruneTo: undefined }
    await one.runPromise(Effect.flatMap(GroupCommit, (groupCommit) => groupCommit.write(write)))
    const stored = await client.query<{ xid: string; ranks: string; rows: string; oldest: string; newest: string }>(
      `select count(distinct id >> 16) as xid, count(distinct id & 65535) as ranks, count(*) as rows, min(version) as oldest, max(version) as newest
       from (select id, version from agent_transitions where agent_id = $1 union all select cursor, version from agent_beats where agent_id = $1) as changes`,
      [id]
    )
    // One transaction (one xid), the beat and the newest transitions that fit, each its own rank.
    expect(stored.rows).toEqual([{ xid: "1", ranks: String(RANKS_PER_TRANSACTION), rows: String(RANKS_PER_TRANSACTION), oldest: String(count - RANKS_PER_TRANSACTION + 2), newest: String(count + 1) }])
  })

  it("retention keeps each agent's newest transitions, beats aside", async () => {
    const { id } = await agent(one)
    // Keep 4: trimmed every ⌈4/10⌉ = 1 transition, so never more than 4 rows.
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void one.runFork(effect), 4)
    for (let n = 1; n <= 10; n++) {
      const to = n % 2 === 0 ? "online" : "online.busy"
      await one.runPromise(writer.awaitPersisted(writer.offer({ n }, projection(id, to), [], { gatewayId, boardId: null, fromState: n % 2 === 0 ? "online.busy" : "online", toState: to, eventType: `test.${n}`, errorTag: null, at: new Date() })))
      await one.runPromise(writer.awaitPersisted(writer.offer({ n, beat: true }, projection(id, to), [], { gatewayId, boardId: null, fromState: to, toState: to, eventType: "agent.heartbeat", errorTag: null, at: new Date() })))
    }
    const kept = await client.query<{ event_type: string }>("select event_type from agent_transitions where agent_id = $1 order by id", [id])
    expect(kept.rows.map((row) => row.event_type)).toEqual(["test.7", "test.8", "test.9", "test.10"])
    expect((await client.query("select version from agent_beats where agent_id = $1", [id])).rows).toEqual([{ version: "20" }])
  })

  it("a writing transaction open in another database holds the frontier nowhere; one open in this database holds it below its id", async () => {
    const other = await createTestDatabase()
    const holderIn = async (url: string) => {
      const holder = new pg.Client({ connectionString: url })
      await holder.connect()
      await holder.query("begin")
      // Draws a transaction id, as a first write does.
      const { rows } = await holder.query<{ xid: string }>("select pg_current_xact_id()::text as xid")
      return { holder, floor: Number(rows[0]!.xid) * 65_536 }
    }
    // A transaction of this database that draws an id and commits: the snapshot's xmax passes
    // every id drawn before it (a frontier is never above xmax).
    const frontier = async () => {
      await client.query("select pg_current_xact_id()")
      return (await changesAfter(0, 1)).frontier
    }
    const latest = () => one.runPromise(Effect.flatMap(TransitionRepo, (repo) => repo.latestCursor))
    try {
      const elsewhere = await holderIn(other.url)
      try {
        expect(await frontier()).toBeGreaterThan(elsewhere.floor)
        expect(await latest()).toBeGreaterThanOrEqual(elsewhere.floor)
        const here = await holderIn(db.url)
        try {
          expect(await frontier()).toBeLessThanOrEqual(here.floor)
          expect(await latest()).toBeLessThan(here.floor)
        } finally {
          await here.holder.end()
        }
        // Once it ended, the frontier passes it again, the other database's still open.
        await expect.poll(frontier).toBeGreaterThan(here.floor)
      } finally {
        await elsewhere.holder.end()
      }
    } finally {
      await other.drop()
    }
  })

  it("given a notified floor below the snapshot's xmin, the frontier is xmin without calling the exact function (its catalog join); at or above it, the exact frontier", async () => {
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    try {
      await holder.query("begin")
      // An open writing transaction of this database: the exact frontier would join pg_locks.
      const { rows } = await holder.query<{ xid: string }>("select pg_current_xact_id()::text as xid")
      const held = Number(rows[0]!.xid) * 65_536
      // Counts the calls of the exact function (the one with the join) within one transaction.
      const frontierWith = async (notified: number | null) => {
        await client.query("begin")
        try {
          await client.query("set local track_functions = 'pl'")
          // The backend's calls not yet reported (the first call of a backend shows as none).
          const calls = async () =>
            Number((await client.query<{ calls: string | null }>("select pg_stat_get_xact_function_calls('agent_changes_frontier()'::regprocedure)::text as calls")).rows[0]!.calls ?? 0)
          const before = await calls()
          const read = await client.query<{ frontier: string }>("select agent_changes_frontier($1::bigint)::text as frontier", [notified])
          return { frontier: Number(read.rows[0]!.frontier), exactCalls: (await calls()) - before }
        } finally {
          await client.query("rollback")
        }
      }
      // Below xmin (a floor of 0 always is; xmin is server-wide, so another database's
      // transaction may hold it below `held`): xmin, never above the exact frontier, no join.
      const cheap = await frontierWith(0)
      expect(cheap.exactCalls).toBe(0)
      expect(cheap.frontier).toBeGreaterThan(0)
      expect(cheap.frontier).toBeLessThanOrEqual(held)
      // At or above xmin (`held` is: the snapshot sees it in progress), or no floor: the exact one.
      // Polled: a background write of the test's services may hold an id just below `held` for a moment.
      await expect.poll(() => frontierWith(held), { timeout: 5_000 }).toEqual({ frontier: held, exactCalls: 1 })
      await expect.poll(() => frontierWith(null), { timeout: 5_000 }).toEqual({ frontier: held, exactCalls: 1 })
      const withFloor = await one.runPromise(Effect.flatMap(TransitionRepo, (repo) => repo.changesAfter(0, {}, 1, 0)))
      expect(withFloor.frontier).toBeLessThanOrEqual(held)
      await expect.poll(async () => (await one.runPromise(Effect.flatMap(TransitionRepo, (repo) => repo.changesAfter(0, {}, 1, held)))).frontier, { timeout: 5_000 }).toBe(held)
      await expect.poll(async () => (await changesAfter(0, 1)).frontier, { timeout: 5_000 }).toBe(held)
    } finally {
      await holder.end()
    }
  })

  it("concurrent writers and an open transaction: the reader gets every transition once in cursor order, each agent's newest beat, and resumes exactly", async () => {
    const agents: Array<Awaited<ReturnType<typeof agent>>> = []
    // Half the agents on each writer, as two instances with one owner per agent.
    for (let i = 0; i < 12; i++) agents.push(await agent(i % 2 === 0 ? one : two))
    const ids = new Set<string>(agents.map((a) => a.id))
    // Start after what the first test wrote.
    let published = (await changesAfter(0, 10_000)).frontier - 1
    const start = published
    const received: Array<{ cursor: number; change: TransitionWithAgent }> = []
    let reading = true
    const reader = (async () => {
      while (reading) {
        const { changes, frontier } = await changesAfter(published)
        for (const change of changes) {
          received.push({ cursor: Number(change.transition.id), change })
          published = Number(change.transition.id)
        }
        if (changes.length < 50) published = Math.max(published, frontier - 1)
        await sleep(2)
      }
    })()
    // A transaction that has an id and stays open while the writers commit around it: nothing
    // after it may be published until it ends, and what it writes then is not skipped.
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    const held = agents[0]!
    await holder.query("begin")
    await holder.query(
      `insert into agent_transitions (id, agent_id, gateway_id, version, from_state, to_state, event_type, at)
       values ((pg_current_xact_id()::text::bigint << 16) | 32767, $1, $2, 1000, 'online', 'online.held', 'test.held', now())`,
      [held.id, gatewayId]
    )
    let step = 0
    const writing = Date.now()
    const versions: Array<number> = agents.map(() => 0)
    while (Date.now() - writing < 1_500) {
      step++
      agents.forEach(({ id, writer }, i) => {
        // Every third write a state change, the others heartbeats that leave it online.
        const moving = (step + i) % 3 === 0
        const to = moving && step % 2 === 0 ? "online.busy" : "online"
        versions[i] = writer.offer({ step }, projection(id, to), [], {
          gatewayId,
          boardId: null,
          fromState: moving ? "online.x" : "online",
          toState: to,
          eventType: moving ? `test.step${step}` : "agent.heartbeat",
          errorTag: null,
          at: new Date()
        })
      })
      if (step === 20) await holder.query("commit")
      await sleep(3)
    }
    if (step < 20) await holder.query("commit")
    await holder.end()
    await Promise.all(agents.map(({ writer }, i) => one.runPromise(writer.awaitPersisted(versions[i]!))))
    // Until the reader has passed every committed change.
    const [{ newest }] = (await client.query<{ newest: string }>("select greatest((select max(id) from agent_transitions), (select max(cursor) from agent_beats)) as newest")).rows as [{ newest: string }]
    await expect.poll(() => published, { timeout: 10_000 }).toBeGreaterThanOrEqual(Number(newest))
    reading = false
    await reader

    const ours = received.filter((r) => ids.has(r.change.transition.agentId))
    const cursors = ours.map((r) => r.cursor)
    // Exactly once, in cursor order.
    expect(cursors).toEqual([...new Set(cursors)].sort((x, y) => x - y))
    // Every transition stored, the held one included, and nothing else.
    const stored = await client.query<{ id: string }>("select id from agent_transitions where agent_id = any($1) and id > $2 order by id", [[...ids], start])
    expect(ours.filter((r) => !isBeat(r.change)).map((r) => r.cursor)).toEqual(stored.rows.map((row) => Number(row.id)))
    expect(ours.some((r) => r.change.transition.eventType === "test.held")).toBe(true)
    expect(stored.rows.length).toBeGreaterThan(agents.length * 5)
    // Each agent's newest beat reached the reader.
    const beats = await client.query<{ agent_id: string; cursor: string }>("select agent_id, cursor from agent_beats where agent_id = any($1)", [[...ids]])
    expect(beats.rows.length).toBe(agents.length)
    for (const beat of beats.rows) expect(cursors).toContain(Number(beat.cursor))

    // A resume from any cursor the reader got replays exactly the changes after it: every
    // transition, and the beats that are still each agent's newest.
    const newestBeats = new Set(beats.rows.map((row) => Number(row.cursor)))
    for (const from of [cursors[0]!, cursors[Math.floor(cursors.length / 3)]!, cursors[Math.floor((2 * cursors.length) / 3)]!, cursors.at(-1)!]) {
      const replayed: Array<number> = []
      let at = from
      for (;;) {
        const { changes } = await changesAfter(at)
        replayed.push(...changes.filter((change) => ids.has(change.transition.agentId)).map((change) => Number(change.transition.id)))
        if (changes.length < 50) break
        at = Number(changes.at(-1)!.transition.id)
      }
      const expected = ours.filter((r) => r.cursor > from && (!isBeat(r.change) || newestBeats.has(r.cursor))).map((r) => r.cursor)
      expect(replayed, `resume after ${from}`).toEqual(expected)
    }
  })
})
