import pg from "pg"
import type { OfflineCause } from "../../machines/agent/livenessTypes.ts"
import { offlineLiveness } from "../inspect/fleetProblems.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshOnlineFleet, LIVENESS_LIMITS } from "../agents/onlineFleet.ts"
import { type InProcessService, startInProcessService } from "../support/inProcessService.ts"

const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS }
const FLEET = 40

interface AgentItem {
  readonly id: string
  readonly name: string
  readonly state: string
  readonly status: string
}

/**
 * GET /api/v1/fleet/summary and the filters of GET /api/v1/agents, over 40 online agents
 * (`Agent 0` … `Agent 39`, in creation order) whose read model is then set, by SQL, to: 0–2
 * `provisioning.failed`, 3–4 `updating.retrying`, 5–8 offline (5 missing on the gateway, 6 with a
 * heartbeat mismatch, 7–8 never seen), 9 `provisioning.awaiting` entered two hours ago (stuck),
 * 10 `provisioning.awaiting` entered a minute ago; 11 and 12 online with a workspace check, 12's
 * drifted. The tests only read.
 */
describe("the fleet view API", () => {
  let fleet: Awaited<ReturnType<typeof freshOnlineFleet>>
  let service: InProcessService
  let ids: ReadonlyArray<string>

  beforeAll(async () => {
    fleet = await freshOnlineFleet(FLEET, policy)
    service = await startInProcessService(fleet.url, policy)
    const client = new pg.Client({ connectionString: fleet.url })
    await client.connect()
    try {
      ids = (await client.query<{ id: string }>("select id from agents order by created_at, id")).rows.map((row) => row.id)
      const set = (from: number, to: number, status: string, statePath: string, reason: string | null = null, cause: OfflineCause | null = null) =>
        client.query(
          `update agents set status = $2, state_path = $3, offline_reason = $4,
             liveness = $5::jsonb where id = any($1::uuid[])`,
          [ids.slice(from, to), status, statePath, reason, cause === null ? null : offlineLiveness(cause)]
        )
      await set(0, 3, "provisioning", "provisioning.failed")
      await set(3, 5, "updating", "updating.retrying")
      await set(5, 6, "offline", "offline", "deleted on the gateway: mc-5 is missing from agents.list", "gateway_missing")
      await set(6, 7, "offline", "offline", "heartbeat disabled on the gateway; we set every 1h", "heartbeat_mismatch")
      await set(7, 9, "offline", "offline", "no heartbeat yet", "never_seen")
      await client.query(
        `insert into agent_workspace_checks (agent_id, checked_at, drifted) values ($1, now(), '[]'::jsonb), ($2, now(), '["SOUL.md"]'::jsonb)`,
        [ids[11], ids[12]]
      )
      await set(9, 11, "provisioning", "provisioning.awaiting")
      // Each agent's first transition, at its creation an hour ago; the ones below are newer.
      await client.query(
        `insert into agent_transitions (agent_id, gateway_id, board_id, version, from_state, to_state, event_type, at)
         select id, gateway_id, board_id, 1, null, 'provisioning.applying', 'agent.create', created_at from agents`
      )
      const entered = (from: number, to: number, ago: string) =>
        client.query(
          `insert into agent_transitions (agent_id, gateway_id, board_id, version, from_state, to_state, event_type, at)
           select id, gateway_id, board_id, 2, 'online', 'provisioning.applying', 'agent.update', now() - $2::interval from agents where id = any($1::uuid[])`,
          [ids.slice(from, to), ago]
        )
      await entered(9, 10, "2 hours")
      await entered(10, 11, "1 minute")
      await entered(3, 5, "1 minute")
    } finally {
      await client.end()
    }
  }, 120_000)

  afterAll(async () => {
    await service?.stop()
    await fleet?.drop()
  })

  const list = async (query: string) => {
    const answer = await service.api("GET", `/api/v1/agents?${query}`)
    expect(answer.status, query).toBe(200)
    return answer.body as { items: ReadonlyArray<AgentItem>; total?: number; next?: string | null }
  }
  const namesOf = (page: { items: ReadonlyArray<AgentItem> }) => page.items.map((agent) => agent.name)
  const agentNames = (...numbers: ReadonlyArray<number>) => numbers.map((n) => `Agent ${n}`)

  it("the summary counts live agents by gateway, board and state, with the problems", async () => {
    const answer = await service.api("GET", "/api/v1/fleet/summary")
    expect(answer.status).toBe(200)
    const byState = { online: 29, "provisioning.failed": 3, "updating.retrying": 2, offline: 4, "provisioning.awaiting": 2 }
    expect(answer.body).toEqual({
      total: FLEET,
      by_state: byState,
      gateways: [{ gateway_id: fleet.gatewayId, total: FLEET, by_state: byState }],
      boards: [{ board_id: fleet.boardId, gateway_id: fleet.gatewayId, total: FLEET, by_state: byState }],
      problems: {
        failed: 3,
        retrying: 2,
        offline: 4,
        offline_by_reason: expect.arrayContaining([
          { reason: "deleted on the gateway: mc-5 is missing from agents.list", count: 1 },
          { reason: "heartbeat disabled on the gateway; we set every 1h", count: 1 },
          { reason: "no heartbeat yet", count: 2 }
        ]),
        stuck: 1,
        stuck_after_s: 900,
        gateway_missing: 1,
        heartbeat_mismatch: 1,
        drifted: 1
      }
    })
    // Thirty seconds: the agents busy for a minute are stuck too (the awaiting one and the two retrying).
    expect((await service.api("GET", "/api/v1/fleet/summary?stuck_after_s=30")).body.problems).toMatchObject({ stuck: 4, stuck_after_s: 30 })
  })

  it("`problem` lists the agents with that problem, oldest first, with their total", async () => {
    expect(await list("problem=failed&limit=200")).toMatchObject({ total: 3, items: agentNames(0, 1, 2).map((name) => ({ name, state: "provisioning.failed" })) })
    expect(namesOf(await list("problem=retrying"))).toEqual(agentNames(3, 4))
    expect(namesOf(await list("problem=offline"))).toEqual(agentNames(5, 6, 7, 8))
    expect(namesOf(await list("problem=stuck"))).toEqual(agentNames(9))
    expect(namesOf(await list("problem=stuck&stuck_after_s=30"))).toEqual(agentNames(3, 4, 9, 10))
    expect(namesOf(await list("problem=gateway_missing"))).toEqual(agentNames(5))
    expect(namesOf(await list("problem=heartbeat_mismatch"))).toEqual(agentNames(6))
    const drifted = await list("problem=drifted")
    expect(drifted).toMatchObject({ total: 1, items: [{ name: "Agent 12", workspace: { drifted: ["SOUL.md"] } }] })
  })

  it("`state` matches a state path or everything under a prefix; `status` the top-level state", async () => {
    expect(namesOf(await list("state=provisioning"))).toEqual(agentNames(0, 1, 2, 9, 10))
    expect(namesOf(await list("state=provisioning.awaiting"))).toEqual(agentNames(9, 10))
    expect(namesOf(await list("state=updating.retrying"))).toEqual(agentNames(3, 4))
    expect(namesOf(await list("status=offline"))).toEqual(agentNames(5, 6, 7, 8))
    expect((await list("status=online")).total).toBe(29)
    expect((await list("state=deleting")).items).toEqual([])
  })

  it("`q` finds a name by a case-insensitive substring, and combines with the other filters", async () => {
    expect(namesOf(await list("q=AGENT%201"))).toEqual(agentNames(1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19))
    expect(namesOf(await list("q=agent%201&state=provisioning"))).toEqual(agentNames(1, 10))
    // `Agent 3` is retrying, not online.
    expect(namesOf(await list(`q=nt%203&board_id=${fleet.boardId}&status=online`))).toEqual(agentNames(30, 31, 32, 33, 34, 35, 36, 37, 38, 39))
    expect((await list("q=%25")).items).toEqual([])
  })

  it("filters page by keyset (`after`/`next`) and by offset in the same stable order", async () => {
    const seen: Array<string> = []
    let after = ""
    for (let page = 0; page < 10; page++) {
      const answer = await list(`status=online&limit=7&after=${after}`)
      expect(Object.keys(answer).sort()).toEqual(["items", "limit", "next"])
      seen.push(...namesOf(answer))
      if (answer.next === null || answer.next === undefined) break
      after = answer.next
    }
    const online = agentNames(...Array.from({ length: FLEET - 11 }, (_, n) => n + 11))
    expect(seen).toEqual(online)
    const byOffset = await list("status=online&limit=7&offset=14")
    expect(byOffset).toMatchObject({ total: 29, offset: 14, limit: 7 })
    expect(namesOf(byOffset)).toEqual(online.slice(14, 21))
  })

  it("answers 422 to a filter value it does not know", async () => {
    for (const query of ["status=sleeping", "state=busy", "state=provisioning.nowhere", "state=", "problem=lost", "q=", "stuck_after_s=0", "stuck_after_s=soon", `q=${"x".repeat(121)}`]) {
      expect((await service.api("GET", `/api/v1/agents?${query}`)).status, query).toBe(422)
    }
    for (const query of ["stuck_after_s=0", "stuck_after_s=-5", "stuck_after_s=1.5"]) {
      expect((await service.api("GET", `/api/v1/fleet/summary?${query}`)).status, query).toBe(422)
    }
  })
})
