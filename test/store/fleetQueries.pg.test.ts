import { SqlClient } from "@effect/sql"
import { Effect, type ManagedRuntime } from "effect"
import pg from "pg"
import type { OfflineCause } from "../../machines/agent/livenessTypes.ts"
import { offlineLiveness } from "../inspect/fleetProblems.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { agentQueries, AgentRepo } from "../../src/store/AgentRepo.ts"
import { fleetQueries } from "../../src/store/fleetQueries.ts"
import { freshOnlineFleet } from "../agents/onlineFleet.ts"
import { agentRepoRuntime, expectIndexRead as expectPlanReads, PLAN_TEST_POLICY, type BuildStatement } from "../support/queryPlans.ts"

/** 100,000 by default; `SWITCHYARD_FLEET_SIZE=10000` measures a smaller fleet. */
const FLEET = Number(process.env["SWITCHYARD_FLEET_SIZE"] ?? 100_000)

/**
 * Turns the first agents (creation order) of an online fleet into problems, through the read
 * model: 30 `provisioning.failed`, 20 `updating.retrying`, 200 offline (20 missing on the
 * gateway, 10 with a heartbeat mismatch, 120 silent, 50 never checked in), 10
 * `provisioning.awaiting` that entered provisioning 2 hours ago (stuck) and 5 that entered it a
 * minute ago (not stuck yet, like the retrying ones); and 2,000 workspace checks, 12 of them
 * (online agents) with drift. Returns the ids of each group.
 */
const seedProblems = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const ids = (await client.query<{ id: string }>("select id from agents order by created_at, id limit 2300")).rows.map((row) => row.id)
    const groups = {
      failed: ids.slice(0, 30),
      retrying: ids.slice(30, 50),
      missing: ids.slice(50, 70),
      mismatch: ids.slice(70, 80),
      silent: ids.slice(80, 200),
      neverSeen: ids.slice(200, 250),
      stuck: ids.slice(250, 260),
      fresh: ids.slice(260, 265),
      drifted: ids.slice(300, 312)
    }
    const set = (group: ReadonlyArray<string>, status: string, statePath: string, reason: string | null = null, cause: OfflineCause | null = null) =>
      client.query(
        `update agents set status = $2, state_path = $3, offline_reason = $4,
           liveness = $5::jsonb where id = any($1::uuid[])`,
        [group, status, statePath, reason, cause === null ? null : offlineLiveness(cause)]
      )
    await set(groups.failed, "provisioning", "provisioning.failed")
    await set(groups.retrying, "updating", "updating.retrying")
    await set(groups.missing, "offline", "offline", "deleted on the gateway", "gateway_missing")
    await set(groups.mismatch, "offline", "offline", "heartbeat disabled on the gateway; we set every 1h", "heartbeat_mismatch")
    await set(groups.silent, "offline", "offline", "no heartbeat for 600 s", "silent")
    await set(groups.neverSeen, "offline", "offline", "no heartbeat yet", "never_seen")
    // The drift check's results: most workspaces as written, a few drifted.
    await client.query(
      `insert into agent_workspace_checks (agent_id, checked_at, drifted)
       select id, now(), case when id = any($2::uuid[]) then '["SOUL.md"]'::jsonb else '[]'::jsonb end from agents where id = any($1::uuid[])`,
      [ids.slice(300, 2300), groups.drifted]
    )
    await client.query("vacuum analyze agent_workspace_checks")
    await set([...groups.stuck, ...groups.fresh], "provisioning", "provisioning.awaiting")
    // Every agent's first transition, as provisioning left it: the history a real fleet has.
    await client.query(
      `insert into agent_transitions (agent_id, gateway_id, board_id, version, from_state, to_state, event_type, at)
       select id, gateway_id, board_id, 1, null, 'provisioning.applying', 'agent.create', created_at from agents`
    )
    const entered = (group: ReadonlyArray<string>, ago: string) =>
      client.query(
        `insert into agent_transitions (agent_id, gateway_id, board_id, version, from_state, to_state, event_type, at)
         select id, gateway_id, board_id, 2, 'online', 'provisioning.applying', 'agent.update', now() - $2::interval from agents where id = any($1::uuid[])`,
        [group, ago]
      )
    await entered(groups.stuck, "2 hours")
    await entered([...groups.fresh, ...groups.retrying], "1 minute")
    // A later move inside provisioning does not restart the clock.
    await client.query(
      `insert into agent_transitions (agent_id, gateway_id, board_id, version, from_state, to_state, event_type, at)
       select id, gateway_id, board_id, 3, 'provisioning.applying', 'provisioning.awaiting', 'apply.done', now() - interval '30 seconds' from agents where id = any($1::uuid[])`,
      [groups.stuck]
    )
    await client.query("vacuum analyze agents")
    await client.query("vacuum analyze agent_transitions")
    return groups
  } finally {
    await client.end()
  }
}

/**
 * The fleet view's queries on one gateway and one board holding 100,000 agents (neither
 * narrows), 265 of them in trouble: the summary and every filter of GET /api/v1/agents are
 * planned as index reads (no sequential scan of agents), and their answers are right.
 */
describe(`fleet view queries at ${FLEET.toLocaleString("en")} agents`, () => {
  let db: Awaited<ReturnType<typeof freshOnlineFleet>>
  let store: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | AgentRepo, unknown>
  let groups: Awaited<ReturnType<typeof seedProblems>>

  beforeAll(async () => {
    const started = Date.now()
    db = await freshOnlineFleet(FLEET, PLAN_TEST_POLICY)
    groups = await seedProblems(db.url)
    store = agentRepoRuntime(db.url)
    console.log(`[measure] seeded ${FLEET} agents in ${Date.now() - started} ms`)
  }, 300_000)

  afterAll(async () => {
    await store?.dispose()
    await db?.drop()
  })

  /** `build`'s plan reads one of `indexes` and never scans the agents table. */
  const expectIndexRead = (name: string, build: BuildStatement, ...indexes: ReadonlyArray<string>) =>
    expectPlanReads(store, name, build, indexes)

  /** Median wall time (ms) of `effect` over 7 runs, round trips included. */
  const median = async <A>(effect: Effect.Effect<A, unknown, AgentRepo>) => {
    const times: Array<number> = []
    for (let i = 0; i < 7; i++) {
      const started = performance.now()
      await store.runPromise(effect)
      times.push(performance.now() - started)
    }
    return times.sort((a, b) => a - b)[3]!
  }

  it("the summary counts from an index-only scan of the group index, and the problems from their small indexes", async () => {
    const grouped = await expectIndexRead("summary groups", (sql) => fleetQueries(sql).groups(), "agents_live_group_idx")
    expect(grouped.map((node) => node["Node Type"])).toContain("Index Only Scan")
    const problems = await expectIndexRead("summary problems", (sql) => fleetQueries(sql).problems(900), "agents_busy_created_idx")
    const read = problems.map((node) => node["Index Name"])
    // Stuck: the busy agents, one probe of the transition index each; causes: the offline agents
    // through the status index; drift: the partial index of drifted checks, never every check.
    expect(read).toEqual(expect.arrayContaining(["agent_transitions_agent_idx", "agents_status_created_idx", "agent_workspace_checks_drifted_idx"]))
    expect(problems.filter((node) => node["Node Type"] === "Seq Scan")).toEqual([])
    const summary = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.summary(900)))
    expect(summary.total).toBe(FLEET)
    expect(summary.byState).toEqual({
      online: FLEET - 265,
      "provisioning.failed": 30,
      "updating.retrying": 20,
      offline: 200,
      "provisioning.awaiting": 15
    })
    expect(summary.gateways).toEqual([{ gatewayId: db.gatewayId, total: FLEET, byState: summary.byState }])
    expect(summary.boards).toEqual([{ boardId: db.boardId, gatewayId: db.gatewayId, total: FLEET, byState: summary.byState }])
    expect(summary.problems).toEqual({
      failed: 30,
      retrying: 20,
      offline: 200,
      offlineByReason: [
        { reason: "no heartbeat for 600 s", count: 120 },
        { reason: "no heartbeat yet", count: 50 },
        { reason: "deleted on the gateway", count: 20 },
        { reason: "heartbeat disabled on the gateway; we set every 1h", count: 10 }
      ],
      stuck: 10,
      stuckAfterS: 900,
      gatewayMissing: 20,
      heartbeatMismatch: 10,
      drifted: 12
    })
    // Under a minute, the fresh and the retrying ones (busy too) count as well; over two hours, none.
    expect((await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.summary(30)))).problems.stuck).toBe(35)
    expect((await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.summary(3 * 3600)))).problems.stuck).toBe(0)
    console.log(`[measure] summary round trip (median of 7): ${(await median(Effect.flatMap(AgentRepo, (repo) => repo.summary(900)))).toFixed(2)} ms`)
  })

  it("each problem filter pages through its own partial index, keyset and offset alike", async () => {
    const cases = [
      { problem: "failed", index: "agents_failed_created_idx", ids: groups.failed },
      { problem: "retrying", index: "agents_retrying_created_idx", ids: groups.retrying },
      { problem: "offline", index: "agents_status_created_idx", ids: [...groups.missing, ...groups.mismatch, ...groups.silent, ...groups.neverSeen] },
      { problem: "stuck", index: "agents_busy_created_idx", ids: groups.stuck },
      { problem: "gateway_missing", index: "agents_status_created_idx", ids: groups.missing },
      { problem: "heartbeat_mismatch", index: "agents_status_created_idx", ids: groups.mismatch },
      { problem: "drifted", index: "agent_workspace_checks_drifted_idx", ids: groups.drifted }
    ] as const
    for (const { problem, index, ids } of cases) {
      const nodes = await expectIndexRead(`list problem=${problem} (keyset)`, (sql) => agentQueries(sql).page({ problem, limit: 200, after: undefined }), index)
      // Drift is read from the checks' partial index, so its (few) agents are sorted; the rest come in index order.
      if (problem !== "drifted") expect(nodes.map((node) => node["Node Type"])).not.toContain("Sort")
      const keyset = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.page({ problem, limit: 200, after: undefined })))
      expect(keyset.items.map((agent) => agent.id)).toEqual(ids.slice(0, 200))
      const offset = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.list({ problem, limit: 5, offset: 5 })))
      expect(offset).toEqual({ items: keyset.items.slice(5, 10), total: ids.length })
      console.log(
        `[measure] list problem=${problem} round trip (median of 7): keyset ${(await median(Effect.flatMap(AgentRepo, (repo) => repo.page({ problem, limit: 200, after: undefined })))).toFixed(2)} ms, offset+count ${(await median(Effect.flatMap(AgentRepo, (repo) => repo.list({ problem, limit: 200, offset: 0 })))).toFixed(2)} ms`
      )
    }
  })

  it("status and state filters read the status index; a deep keyset page too", async () => {
    await expectIndexRead("list status=offline", (sql) => agentQueries(sql).page({ status: "offline", limit: 200, after: undefined }), "agents_status_created_idx")
    await expectIndexRead("list state=provisioning", (sql) => agentQueries(sql).page({ state: "provisioning", limit: 200, after: undefined }), "agents_status_created_idx", "agents_busy_created_idx")
    await expectIndexRead("list state=provisioning.failed", (sql) => agentQueries(sql).page({ state: "provisioning.failed", limit: 200, after: undefined }), "agents_status_created_idx", "agents_live_state_idx", "agents_failed_created_idx")
    const prefix = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.list({ state: "provisioning", limit: 200, offset: 0 })))
    expect(prefix.total).toBe(45)
    expect(new Set(prefix.items.map((agent) => agent.statePath))).toEqual(new Set(["provisioning.failed", "provisioning.awaiting"]))
    // The deepest page of the online agents, after a cursor near the end.
    const [near] = await store.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ cursor: string }>`select cursor from (${agentQueries(sql).livePage(undefined, FLEET - 200)}) as page offset ${FLEET - 201}`)
    )
    await expectIndexRead("list status=online (keyset, last)", (sql) => agentQueries(sql).page({ status: "online", limit: 200, after: near!.cursor }), "agents_status_created_idx", "agents_live_created_idx")
    const last = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.page({ status: "online", limit: 200, after: near!.cursor })))
    expect(last.items).toHaveLength(200)
    const after = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.page({ status: "online", limit: 200, after: last.next ?? undefined })))
    expect(after).toEqual({ items: [], next: null })
    console.log(
      `[measure] list status=online last page round trip (median of 7): ${(await median(Effect.flatMap(AgentRepo, (repo) => repo.page({ status: "online", limit: 200, after: near!.cursor })))).toFixed(2)} ms`
    )
  })

  it("a name search reads the trigram index, case-insensitive, and combines with the other filters", async () => {
    await expectIndexRead("list q=gent 4242", (sql) => agentQueries(sql).page({ q: "gent 4242", limit: 200, after: undefined }), "agents_name_trgm_idx")
    const found = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.list({ q: "GENT 4242", limit: 200, offset: 0 })))
    const expected = Array.from({ length: FLEET }, (_, n) => `Agent ${n}`).filter((name) => name.includes("Agent 4242"))
    expect(found.items.map((agent) => agent.name).sort()).toEqual(expected.slice(0, 200).sort())
    expect(found.total).toBe(expected.length)
    // "Agent 3" is one of the 30 failed agents (clone numbers start at 0).
    const failedNamed = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.list({ q: "agent 3", problem: "failed", limit: 200, offset: 0 })))
    expect(failedNamed.items.map((agent) => agent.name)).toEqual(["Agent 3"])
    // LIKE wildcards in the search are plain text.
    expect((await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.list({ q: "agent%4", limit: 10, offset: 0 })))).total).toBe(0)
    console.log(
      `[measure] list q="gent 4242" round trip (median of 7): keyset ${(await median(Effect.flatMap(AgentRepo, (repo) => repo.page({ q: "gent 4242", limit: 200, after: undefined })))).toFixed(2)} ms, offset+count ${(await median(Effect.flatMap(AgentRepo, (repo) => repo.list({ q: "gent 4242", limit: 200, offset: 0 })))).toFixed(2)} ms`
    )
  })
})
