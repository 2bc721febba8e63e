import { describe, expect, it } from "vitest"
import { TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * A flood of signals from gateway agents with our prefix that are not ours (orphans) must not
 * read our agents once per signal (docs/operations.md §8): at most one read per 5 s, none again
 * for an orphan the last read lacked. Reconciliation is once a minute here, so the reads counted
 * are the signals' own.
 */
const config = { livenessWatchers: true, livenessProbeMs: 100, reconcileMs: 60_000, gatewayLostAfterMs: 1_000 }
const POLL = { timeout: 15_000, interval: 50 }
/** The watcher's fewest ms between two reads caused by signals (ROSTER_RELOAD_MS). */
const RELOAD_EVERY_MS = 5_000

const metric = async (service: InProcessService, name: string, labels: string): Promise<number> => {
  const text = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text()
  const line = text.split("\n").find((row) => row.startsWith(`${name}{${labels}}`))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1))
}

describe("the liveness watcher's roster under a flood of orphan signals (simulator)", () => {
  it("reads our agents at most once per interval, and an agent created meanwhile still has its runs recorded", async () => {
    await withSimulatedStack({ boardName: "Flood", config }, async ({ service, simulator, boardId, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      const signalReads = () => metric(service, "switchyard_liveness_roster_reads_total", `gateway_id="${gatewayId}",cause="signal"`)
      const heartbeatRuns = () => metric(service, "switchyard_llm_heartbeat_runs_total", `gateway_id="${gatewayId}"`)
      const readsBefore = await signalReads()
      const listsBefore = simulator.countOf("agents.list")

      // 50 distinct orphans run once each, then one orphan runs 100 times: 300 signals.
      const started = Date.now()
      for (let i = 0; i < 50; i++) simulator.heartbeatRun(`mc-orphan-${i}`, "error")
      for (let i = 0; i < 100; i++) simulator.heartbeatRun("mc-orphan-0", "ok")
      await expect.poll(heartbeatRuns, POLL).toBe(150)
      const elapsed = Date.now() - started

      const reads = (await signalReads()) - readsBefore
      console.log(`[measure] roster reads caused by 300 orphan signals: ${reads} in ${elapsed} ms (agents.list calls: ${simulator.countOf("agents.list") - listsBefore})`)
      expect(reads).toBeLessThanOrEqual(1 + Math.floor(elapsed / RELOAD_EVERY_MS))
      // The orphans' signals never list the gateway's agents: reconciliation alone does.
      expect(simulator.countOf("agents.list")).toBe(listsBefore)

      // A worker created now (within the interval) is known from its local actor: its wake's run is recorded without a read.
      const readsAfterFlood = await signalReads()
      const created = await service.api("POST", "/api/v1/agents", { name: "Newcomer", board_id: boardId, heartbeat_config: { every: "0m" } })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      const id = created.body.id as string
      await expect.poll(async () => (await service.api("GET", `/api/v1/agents/${id}`)).body.liveness?.last_run?.outcome, POLL).toBe("running")
      expect(await signalReads()).toBe(readsAfterFlood)
    })
  })
})
