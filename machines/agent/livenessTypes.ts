/**
 * Liveness signals from the gateway itself, as plain data (docs/architecture.md §5.5). Every
 * event carries `at` (epoch ms, when it was observed) and `source`: the gateway event or method
 * it came from, or `curl-back` for the agent's own heartbeat.
 */

/** Where a signal came from: a gateway event or method name, the socket itself, or the agent's curl-back. */
export type SignalSource =
  | "curl-back"
  | "socket"
  | "health"
  | "agents.list"
  | "agent"
  | "sessions.changed"
  | "heartbeat"
  | "presence"
  | "tick"
  | "last-heartbeat"

export type RunOutcome = "running" | "ok" | "error" | "aborted"

/** The agent's last gateway run (a wake, a message or a heartbeat turn). */
export interface RunRecord {
  readonly runId: string
  /** Whether the gateway marked it as a heartbeat run (an LLM heartbeat turn). */
  readonly heartbeat: boolean
  readonly startedAt: number | null
  readonly endedAt: number | null
  readonly outcome: RunOutcome
  /** Why a failed run failed, as the gateway said it (e.g. missing model credentials). */
  readonly error: string | null
}

/** The heartbeat the gateway runs for the agent (`health.agents[].heartbeat`), as last read. */
export interface EffectiveHeartbeat {
  readonly enabled: boolean
  /** As the gateway writes it: "10m", or "disabled". */
  readonly every: string
  /** Null when disabled. */
  readonly everyMs: number | null
  readonly at: number
}

/** Why an agent is offline, as a code; `offlineReason` says it in words. */
export type OfflineCause =
  | "silent"
  | "gateway_unreachable"
  | "gateway_missing"
  | "heartbeat_mismatch"
  | "runs_failing"
  | "no_checkin"
  | "never_seen"
  | "removed"

/** What the gateway's signals say of the agent. Absent from snapshots older than it: read through `livenessOf`. */
export interface LivenessState {
  /** Epoch ms of the last sign of work: a run, a session change, a heartbeat run, or a curl-back. */
  readonly lastActivityAt: number | null
  readonly lastActivitySource: SignalSource | null
  readonly lastRun: RunRecord | null
  /** Runs that failed in a row; reset by a run that succeeds. */
  readonly failedRuns: number
  readonly heartbeat: EffectiveHeartbeat | null
  /** Set when the effective heartbeat differs from the one we set (docs/operations.md §8). */
  readonly heartbeatMismatch: string | null
  readonly gatewayReachable: boolean
  /** Epoch ms the socket was lost, while it is. */
  readonly gatewayLostAt: number | null
  /**
   * Epoch ms silence is counted from at the earliest since the socket came back: the last sign of
   * life before the loss moved on by the outage's length (the outage is not silence). Absent in
   * older snapshots.
   */
  readonly gatewayRegainedAt?: number | null | undefined
  /** Epoch ms the agent was first seen missing from `agents.list`, while it is. */
  readonly missingSince: number | null
  readonly offlineCause: OfflineCause | null
}

export const initialLiveness: LivenessState = {
  lastActivityAt: null,
  lastActivitySource: null,
  lastRun: null,
  failedRuns: 0,
  heartbeat: null,
  heartbeatMismatch: null,
  gatewayReachable: true,
  gatewayLostAt: null,
  missingSince: null,
  offlineCause: null
}

interface Signal {
  readonly at: number
  readonly source: SignalSource
}

/** Gateway signals, mapped to agent events by the per-gateway watcher (src/liveness). */
export type LivenessEvent =
  | (Signal & { readonly type: "gateway.run.started"; readonly runId: string; readonly heartbeat: boolean })
  | (Signal & {
      readonly type: "gateway.run.ended"
      readonly runId: string
      readonly heartbeat: boolean
      readonly outcome: "ok" | "error" | "aborted"
      /** Why a failed run failed, as the gateway said it. */
      readonly failure?: string | undefined
    })
  | (Signal & { readonly type: "gateway.session.changed"; readonly sessionKey: string; readonly reason: string })
  /** A heartbeat turn the gateway reported without a run id (`heartbeat` event with the agent). */
  | (Signal & { readonly type: "gateway.heartbeat.run"; readonly status: string })
  | (Signal & { readonly type: "gateway.heartbeat.effective"; readonly enabled: boolean; readonly every: string; readonly everyMs: number | null })
  | (Signal & { readonly type: "gateway.connection.lost"; readonly reason: string })
  | (Signal & { readonly type: "gateway.connection.regained" })
  | (Signal & { readonly type: "gateway.agent.missing" })
  | (Signal & { readonly type: "gateway.agent.present" })

export type LivenessEventType = LivenessEvent["type"]

export const livenessEventTypes: ReadonlyArray<LivenessEventType> = [
  "gateway.run.started",
  "gateway.run.ended",
  "gateway.session.changed",
  "gateway.heartbeat.run",
  "gateway.heartbeat.effective",
  "gateway.connection.lost",
  "gateway.connection.regained",
  "gateway.agent.missing",
  "gateway.agent.present"
]
