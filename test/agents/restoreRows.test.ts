import { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { AGENT_MACHINE_VERSION, agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { agentDeadlines } from "../../src/agents/agentDeadlines.ts"
import { makeRowRestorer, type GatewayRestoreProgress } from "../../src/agents/restoreRows.ts"
import { stopAgentActor } from "../../src/agents/agentActorSystem.ts"
import { makeActorStarter, type AgentEntry } from "../../src/agents/startAgentActor.ts"
import type { StoredSnapshotAt } from "../../src/store/AgentRepo.ts"
import { LIVENESS_LIMITS, onlineSnapshotTemplate } from "./onlineFleet.ts"

const policy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS } satisfies AgentPolicy

/** `count` online agents of gateway `gw`, in cursor order. */
const storedRows = (count: number): Array<StoredSnapshotAt> => {
  const template = onlineSnapshotTemplate(policy, Date.now())
  return Array.from({ length: count }, (_, i) => {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`
    const text = template.replaceAll("__ID__", id).replaceAll("__GATEWAY__", "gw").replaceAll("__BOARD__", "board").replaceAll("__NAME__", `a${i}`).replaceAll("__TOKEN_HASH__", "h")
    return { id, snapshot: JSON.parse(text) as unknown, machineVersion: AGENT_MACHINE_VERSION, version: "1", cursor: `${i}.${id}` }
  })
}

/** A row restorer over `rows` (pages of 2) with the real actor starter; records pages read, actors created and actors started. */
const harness = (rows: ReadonlyArray<StoredSnapshotAt>, failSecondPageOnce: boolean) => {
  const entries = new Map<string, AgentEntry>()
  const reads: Array<string | undefined> = []
  // Deadlines are armed but never fire: these tests are about starting actors.
  const deadlines = agentDeadlines({ now: () => Date.now(), setTimer: () => undefined, clearTimer: () => {} })
  const starter = makeActorStarter({ entries, persist: () => {}, runFork: () => undefined, transitionsKeepPerAgent: 10, deadlines })
  const created: Array<string> = []
  const started: Array<string> = []
  // The pages read (their `after`) when each actor was created.
  const readWhenCreated: Array<ReadonlyArray<string | undefined>> = []
  const start: typeof starter.start = (agentId, gatewayId, actor, version, stored) => {
    created.push(agentId)
    readWhenCreated.push([...reads])
    const startActor = actor.start.bind(actor)
    actor.start = () => {
      started.push(agentId)
      return startActor()
    }
    return starter.start(agentId, gatewayId, actor, version, stored)
  }
  let failed = !failSecondPageOnce
  const readPage = (_gatewayId: string, after: string | undefined) =>
    Effect.suspend(() => {
      reads.push(after)
      // The second page fails once, as a database that went away would.
      if (after !== undefined && !failed) {
        failed = true
        return Effect.fail(new SqlError({ cause: "gone", message: "connection lost" }))
      }
      const from = after === undefined ? 0 : rows.findIndex((row) => row.cursor === after) + 1
      return Effect.succeed(rows.slice(from, from + 2))
    })
  const restorer = makeRowRestorer({ logic: agentMachine, starter: { create: starter.create, start }, failures: new Map(), policy: () => policy, readPage }, 2)
  const stop = () => {
    for (const entry of entries.values()) stopAgentActor(entry.actor)
  }
  return { restorer, entries, created, started, reads, readWhenCreated, stop }
}

describe("restoring a gateway's rows page by page", () => {
  it("a retry after a page that could not be read resumes with that page: no row is read, created or started twice", async () => {
    const rows = storedRows(5)
    const { restorer, entries, created, started, reads, stop } = harness(rows, true)
    const progress: GatewayRestoreProgress = { after: undefined, restored: 0 }

    const restored = await Effect.runPromise(Effect.retry(restorer.restoreGateway("gw", progress, Effect.void), { times: 1 }))

    const ids = rows.map((row) => row.id)
    expect(restored).toBe(5)
    expect(reads).toEqual([undefined, rows[1]!.cursor, rows[1]!.cursor, rows[3]!.cursor])
    expect(created).toEqual(ids)
    expect(started).toEqual(ids)
    expect([...entries.keys()]).toEqual(ids)
    stop()
  })

  it("rows restored again while their actors run start no second actor: one live actor per agent", async () => {
    const rows = storedRows(3)
    const { restorer, entries, created, started, stop } = harness(rows, false)
    await Effect.runPromise(restorer.restoreGateway("gw", { after: undefined, restored: 0 }, Effect.void))
    const first = [...entries.values()].map((entry) => entry.actor)

    await Effect.runPromise(restorer.restoreGateway("gw", { after: undefined, restored: 0 }, Effect.void))

    const ids = rows.map((row) => row.id)
    expect(created).toEqual([...ids, ...ids])
    expect(started).toEqual(ids)
    expect([...entries.values()].every((entry, i) => entry.actor === first[i])).toBe(true)
    stop()
  })

  it("reads the next page while this one starts: its query is under way before the page's first actor", async () => {
    const rows = storedRows(5)
    const { restorer, readWhenCreated, reads, stop } = harness(rows, false)

    const restored = await Effect.runPromise(restorer.restoreGateway("gw", { after: undefined, restored: 0 }, Effect.void))

    expect(restored).toBe(5)
    // Pages of 2: rows 0-1, 2-3, then 4 (short: the last, nothing read after it).
    expect(reads).toEqual([undefined, rows[1]!.cursor, rows[3]!.cursor])
    expect(readWhenCreated[0]).toEqual([undefined, rows[1]!.cursor])
    expect(readWhenCreated[2]).toEqual([undefined, rows[1]!.cursor, rows[3]!.cursor])
    stop()
  })
})
