const HOUR_MS = 3_600_000

/**
 * LLM heartbeat turns per agent-hour over a sliding hour (README "Liveness"): heartbeat runs seen
 * in the last hour (or since `startedAt`, when younger), divided by the agents and the hours.
 */
export class HeartbeatBudget {
  private readonly runs: number[] = []
  private readonly startedAt: number

  constructor(startedAt: number) {
    this.startedAt = startedAt
  }

  /** One heartbeat run started at `at` (epoch ms). */
  record(at: number): void {
    this.runs.push(at)
  }

  /** Turns per agent-hour at `now` for `agents` agents; null without agents. */
  perAgentHour(now: number, agents: number): number | null {
    while (this.runs.length > 0 && (this.runs[0] ?? now) < now - HOUR_MS) this.runs.shift()
    if (agents === 0) return null
    const hours = Math.max(Math.min(now - this.startedAt, HOUR_MS), 60_000) / HOUR_MS
    return this.runs.length / agents / hours
  }
}
