import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startClusterKillTrials, type ClusterKillTrials } from "../support/cluster/clusterKillTrials.ts"

/**
 * SIGKILLs of one of two runners (the gateway's owner, then the other, then the owner) at a
 * random moment under load (real processes, simulated gateway): every request answered 2xx by
 * either runner is in the database after the kill, and after the restart every agent is online
 * again, with at most one socket at the gateway.
 * `npm run bench -- clusterTakeover --trials N` runs many more and prints the figures.
 */

const TRIALS = 3

describe("SIGKILLs of a runner at random moments under load (two runners, simulated gateway)", () => {
  let trials: ClusterKillTrials

  beforeAll(async () => {
    trials = await startClusterKillTrials({ agents: 4, workers: 4, killAfterMs: [300, 1200], settleTimeoutMs: 30_000, victim: "alternate" })
  }, 120_000)

  afterAll(async () => {
    await trials?.stop()
  })

  it(`loses no accepted event over ${TRIALS} kills`, async () => {
    for (let i = 0; i < TRIALS; i++) {
      const report = await trials.run()
      console.log(`[measure] cluster kill trial ${report.trial}: killed node ${report.killed}${report.killedOwner ? " (owner)" : ""}, accepted ${JSON.stringify(report.accepted)}, refused ${JSON.stringify(report.refused)}, recovered in ${report.recoveryMs} ms`)
      expect(report.acceptedTotal, "the load got answers").toBeGreaterThan(0)
      expect(report.lost, `trial ${report.trial}: accepted events lost`).toEqual([])
      expect(report.refused["500"] ?? 0, `trial ${report.trial}: 500 answers\n${trials.logs().slice(-4000)}`).toBe(0)
      // A token the agent's workspace still holds is valid: while its owner is away the answer is 503, never 401.
      expect(report.refused["401"] ?? 0, `trial ${report.trial}: 401 for a token the workspace held\n${trials.logs().slice(-4000)}`).toBe(0)
      expect(report.halfDone, `trial ${report.trial}: not settled after the restart\n${trials.logs().slice(-4000)}`).toEqual([])
    }
  }, 240_000)
})
