import { SqlClient } from "@effect/sql"
import { Effect, type ManagedRuntime } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { agentStatesQuery } from "../../src/observability/agentMetrics.ts"
import { agentQueries, AgentRepo } from "../../src/store/AgentRepo.ts"
import { liveGatewayPage } from "../../src/store/gatewayAgentRows.ts"
import { freshOnlineFleet } from "../agents/onlineFleet.ts"
import { agentRepoRuntime, expectIndexRead as expectPlanReads, PLAN_TEST_POLICY, type BuildStatement } from "../support/queryPlans.ts"

const FLEET = 100_000

/**
 * The lookups that run per event or per request, on one gateway and one board holding 100,000
 * agents (the worst case: neither `gateway_id` nor `board_id` narrows), each planned as an index
 * read: no sequential scan of agents and no sort.
 */
describe(`agent lookups at ${FLEET.toLocaleString("en")} agents`, () => {
  let db: Awaited<ReturnType<typeof freshOnlineFleet>>
  let store: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | AgentRepo, unknown>
  let gatewayId: string
  let boardId: string

  beforeAll(async () => {
    const started = Date.now()
    db = await freshOnlineFleet(FLEET, PLAN_TEST_POLICY)
    gatewayId = db.gatewayId
    boardId = db.boardId
    store = agentRepoRuntime(db.url)
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await client.query("vacuum analyze agents")
    await client.end()
    console.log(`[measure] seeded ${FLEET} agents in ${Date.now() - started} ms`)
  }, 300_000)

  afterAll(async () => {
    await store?.dispose()
    await db?.drop()
  })

  /** `build`'s plan reads one of `indexes`, and neither scans agents nor sorts. */
  const expectIndexRead = (name: string, build: BuildStatement, ...indexes: ReadonlyArray<string>) =>
    expectPlanReads(store, name, build, indexes, { noSort: true })

  it("mainOf reads the partial index of gateway-main agents", () =>
    expectIndexRead("mainOf", (sql) => agentQueries(sql).mainOf(gatewayId), "agents_gateway_main_idx"))

  it("leadOf reads the partial index of board leads", () => expectIndexRead("leadOf", (sql) => agentQueries(sql).leadOf(boardId), "agents_board_lead_idx"))

  it("the worker-cap count reads at most `cap` entries of the board's workers index", async () => {
    await expectIndexRead("worker cap", (sql) => agentQueries(sql).workersUpTo(boardId, 50), "agents_board_workers_idx")
    const [counted] = await store.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => agentQueries(sql).workersUpTo(boardId, 50)))
    expect(Number(counted?.count)).toBe(50)
  })

  it("the restore page after the last-but-one page reads an index range in creation order", async () => {
    const [near] = await store.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ cursor: string }>`select cursor from (${agentQueries(sql).livePage(undefined, FLEET - 1_000)}) as page offset ${FLEET - 1_001}`)
    )
    await expectIndexRead("restore page (deepest)", (sql) => agentQueries(sql).livePage(near!.cursor, 1_000), "agents_live_created_idx")
    const last = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.livePage(near!.cursor, 1_000)))
    expect(last).toHaveLength(1_000)
    // One gateway's restore page: the only gateway holds every agent, so the planner may read the overall index.
    await expectIndexRead("gateway restore page (deepest)", (sql) => agentQueries(sql).livePage(near!.cursor, 1_000, gatewayId), "agents_gateway_created_idx", "agents_live_created_idx")
    const gatewayLast = await store.runPromise(liveGatewayPage(gatewayId, near!.cursor, 1_000))
    expect(gatewayLast.map((row) => row.id)).toEqual(last.map((row) => row.id))
  })

  it("GET /agents keyset pages read an index range overall, per board and per gateway, as deep as the last page", async () => {
    const deepest = await store.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ cursor: string }>`select cursor from (${agentQueries(sql).livePage(undefined, FLEET - 200)}) as page offset ${FLEET - 201}`)
    )
    const after = deepest[0]!.cursor
    await expectIndexRead("list page (keyset, last)", (sql) => agentQueries(sql).page({ limit: 200, after }), "agents_live_created_idx")
    // The only board (and gateway) holds every agent, so the planner may read the overall index.
    await expectIndexRead("list page by board (keyset, last)", (sql) => agentQueries(sql).page({ boardId, limit: 200, after }), "agents_board_created_idx", "agents_live_created_idx")
    await expectIndexRead("list page by gateway (keyset, last)", (sql) => agentQueries(sql).page({ gatewayId, limit: 200, after }), "agents_gateway_created_idx", "agents_live_created_idx")
    const page = await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.page({ boardId, limit: 200, after })))
    expect(page.items).toHaveLength(200)
    expect(page.next).not.toBeNull()
    expect((await store.runPromise(Effect.flatMap(AgentRepo, (repo) => repo.page({ boardId, limit: 200, after: page.next ?? undefined })))).next).toBeNull()
  })

  // O(agents), but per scrape (15 s), never per event: it reads the index, not the table.
  it("the agents-by-state metric counts from the live state index alone", () =>
    expectIndexRead("agents by state", (sql) => agentStatesQuery(sql), "agents_live_state_idx"))
})
