import type { ManagedRuntime } from "effect"
import type { SqlClient } from "@effect/sql"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { gatewayRosterIfChanged } from "../../src/liveness/gatewayRoster.ts"
import type { AgentRepo } from "../../src/store/AgentRepo.ts"
import { freshOnlineFleet } from "../agents/onlineFleet.ts"
import { agentRepoRuntime, PLAN_TEST_POLICY } from "../support/queryPlans.ts"

/**
 * The watcher reads its roster again only when the store's fingerprint of the gateway's live
 * agents changed (docs/operations.md §8): an insert, a delete and a new gateway agent id each
 * change it, so a deleted or converted agent is seen by the next round.
 */
describe("gatewayRosterIfChanged", () => {
  let db: Awaited<ReturnType<typeof freshOnlineFleet>>
  let store: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | AgentRepo, unknown>
  let client: pg.Client

  beforeAll(async () => {
    db = await freshOnlineFleet(30, PLAN_TEST_POLICY)
    store = agentRepoRuntime(db.url)
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
  }, 120_000)

  afterAll(async () => {
    await client?.end()
    await store?.dispose()
    await db?.drop()
  })

  const check = (known: string | undefined) => store.runPromise(gatewayRosterIfChanged(db.gatewayId, known))
  const someAgent = async () => (await client.query<{ id: string; gateway_agent_id: string }>("select id, gateway_agent_id from agents where deleted_at is null order by created_at limit 1")).rows[0]!

  it("reads nothing while the roster is unchanged, and reads it again after a delete, a new gateway agent id or an agent restored", async () => {
    const first = await check(undefined)
    expect(first?.roster.size).toBe(30)
    expect(first?.fingerprint).toBeDefined()
    expect(await check(first?.fingerprint)).toBeUndefined()

    const victim = await someAgent()
    await client.query("update agents set deleted_at = now() where id = $1", [victim.id])
    const afterDelete = await check(first?.fingerprint)
    expect(afterDelete?.roster.size).toBe(29)
    expect(afterDelete?.roster.has(victim.gateway_agent_id)).toBe(false)

    const converted = await someAgent()
    await client.query("update agents set gateway_agent_id = 'lead-converted' where id = $1", [converted.id])
    const afterConvert = await check(afterDelete?.fingerprint)
    expect(afterConvert?.roster.get("lead-converted")).toBe(converted.id)
    expect(afterConvert?.roster.has(converted.gateway_agent_id)).toBe(false)

    // Undeleting restores the earlier set of rows: the fingerprint follows the rows, not a counter.
    await client.query("update agents set deleted_at = null where id = $1", [victim.id])
    const restored = await check(afterConvert?.fingerprint)
    expect(restored?.roster.size).toBe(30)
    expect(await check(restored?.fingerprint)).toBeUndefined()
  })
})
