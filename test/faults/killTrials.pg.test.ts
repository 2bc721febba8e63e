import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startKillTrials, type KillTrials } from "../support/killTrial.ts"

/**
 * Kill -9 under mixed load (real process, simulated gateway): heartbeats, creates, updates,
 * deletes and board-chat messages run at the service when it is SIGKILLed at a random moment.
 * Every request answered 2xx must be in the database after the crash, and after a restart on
 * the same database every agent must settle, with the gateway and the read model in agreement.
 * `npx tsx bench/killTrials.ts --trials N` runs many more and prints the figures.
 */

const TRIALS = 3

describe("SIGKILL under mixed load (real process, simulated gateway)", () => {
  let trials: KillTrials

  beforeAll(async () => {
    trials = await startKillTrials({ agents: 4, workers: 4, killAfterMs: [300, 1200], settleTimeoutMs: 20_000 })
  }, 90_000)

  afterAll(async () => {
    await trials?.stop()
  })

  it(`loses no accepted event and leaves no agent half-done over ${TRIALS} kills`, async () => {
    for (let i = 0; i < TRIALS; i++) {
      const report = await trials.run()
      expect(report.acceptedTotal, "the load got answers before the kill").toBeGreaterThan(0)
      expect(report.lost, `trial ${report.trial}: accepted events lost`).toEqual([])
      expect(report.halfDone, `trial ${report.trial}: half-done after the restart\n${trials.logs().slice(-4000)}`).toEqual([])
    }
  }, 150_000)
})
