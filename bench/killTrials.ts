/**
 * Kill -9 trials under mixed load: the real service as a child process on the machine's
 * Postgres, the gateway simulator in this process. Each trial loads the service with
 * heartbeats, creates, updates, deletes and board-chat messages, SIGKILLs it at a random
 * moment, checks the database for every accepted (2xx) event, restarts it on the same
 * database and waits for every agent to settle (see `test/support/killTrial.ts`). Prints
 * trials, accepted requests, accepted events lost, agents half-done, and the time to recover
 * after the restart (p50/max). `--trials N` (default 30), `--agents N` (default 4),
 * `--workers N` concurrent request loops (default 4).
 */
import { startKillTrials, type KillTrialReport } from "../test/support/killTrial.ts"
import { percentile } from "./common.ts"

const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}

export const killTrials = async () => {
  const count = flag("--trials", 30)
  const trials = await startKillTrials({ agents: flag("--agents", 4), workers: flag("--workers", 4), killAfterMs: [300, 3000], settleTimeoutMs: 30_000 })
  const reports: Array<KillTrialReport> = []
  try {
    for (let i = 0; i < count; i++) {
      const report = await trials.run()
      reports.push(report)
      const defects = [
        ...report.lost.map((line) => `lost: ${line}`),
        ...report.halfDone.map((line) => `half-done: ${line}`),
        ...(report.halfDone.length === 0 ? report.slow.map((line) => `slow (unsettled 5 s after ready): ${line}`) : [])
      ]
      console.log(
        `  trial ${report.trial}: ${report.acceptedTotal} accepted ${JSON.stringify(report.accepted)}, in flight at the kill ${JSON.stringify(report.inFlightAtKill)}, ` +
          `restart ${report.restartMs} ms, recovered in ${report.recoveryMs} ms${defects.length === 0 ? "" : `\n    ${defects.join("\n    ")}`}`
      )
    }
  } finally {
    await trials.stop()
  }
  const sum = (pick: (report: KillTrialReport) => Readonly<Record<string, number>>) => {
    const total: Record<string, number> = {}
    for (const report of reports) for (const [kind, n] of Object.entries(pick(report))) total[kind] = (total[kind] ?? 0) + n
    return total
  }
  const accepted = sum((report) => report.accepted)
  const inFlight = sum((report) => report.inFlightAtKill)
  const recovery = reports.map((report) => report.recoveryMs)
  const restart = reports.map((report) => report.restartMs)
  console.log(`kill -9 trials under mixed load (real process, simulated gateway)`)
  console.log(`  trials: ${reports.length}`)
  console.log(`  accepted requests: ${reports.reduce((total, report) => total + report.acceptedTotal, 0)} ${JSON.stringify(accepted)}`)
  console.log(`  in flight at the kill (either outcome allowed): ${Object.values(inFlight).reduce((total, n) => total + n, 0)} ${JSON.stringify(inFlight)}`)
  console.log(`  accepted events lost: ${reports.reduce((total, report) => total + report.lost.length, 0)}`)
  console.log(`  agents half-done after the restart: ${reports.reduce((total, report) => total + report.halfDone.length, 0)} (in ${reports.filter((report) => report.halfDone.length > 0).length} trials)`)
  const failures = reports.at(-1)?.messageFailures ?? []
  console.log(`  accepted messages that settled failed: ${failures.length}${failures.map((line) => `\n    ${line}`).join("")}`)
  console.log(`  restart (spawn → ready): p50 ${percentile(restart, 50)} ms, max ${Math.max(...restart)} ms`)
  console.log(`  recovery after restart (ready → every agent settled): p50 ${percentile(recovery, 50)} ms, max ${Math.max(...recovery)} ms`)
}

if (import.meta.url === `file://${process.argv[1]}`) await killTrials()
