import type { LivenessEvent } from "../../machines/agent/livenessTypes.ts"
import type { GatewayEvent } from "../gateway/GatewayClient.ts"
import { agentIdOfSessionKey, AgentEventPayload, HeartbeatEventPayload, SessionsChangedPayload } from "../gateway/livenessEvents.ts"

/** One gateway signal for one gateway agent, ready to send to its actor. */
export interface AgentSignal {
  readonly gatewayAgentId: string
  readonly event: LivenessEvent
}

/** Runs remembered at most (the oldest are forgotten first): enough for every run in flight on a gateway. */
const MAX_RUNS = 10_000

/**
 * The runs of one gateway seen so far, so that a run's many `agent` frames make one
 * `gateway.run.started` and one `gateway.run.ended`.
 */
export class RunTracker {
  private readonly runs = new Map<string, { readonly startedAt: number }>()

  /** True the first time `runId` is seen. */
  start(runId: string, at: number): boolean {
    if (this.runs.has(runId)) return false
    if (this.runs.size >= MAX_RUNS) {
      const oldest = this.runs.keys().next().value
      if (oldest !== undefined) this.runs.delete(oldest)
    }
    this.runs.set(runId, { startedAt: at })
    return true
  }

  end(runId: string): void {
    this.runs.delete(runId)
  }
}

/**
 * `sessions.changed` reasons that are the gateway scheduler's bookkeeping, not the agent at work:
 * `cron-binding` when an agent's heartbeat job is bound again (2026.9.6: after a heartbeat patch;
 * 2026.8.2: also at its create and delete); docs/gateway-protocol.md §11.
 */
const SCHEDULER_REASONS: ReadonlySet<string> = new Set(["cron-binding", "cron-bindings-loaded"])

/** How a `lifecycle` phase ends a run, if it does (docs/gateway-protocol.md §6: `error` with its reason; `end` when it finished). */
const endingOf = (phase: string | undefined): "ok" | "error" | "aborted" | undefined => {
  switch (phase) {
    case "end":
    case "done":
    case "completed":
      return "ok"
    case "error":
      return "error"
    case "aborted":
    case "abort":
      return "aborted"
    default:
      return undefined
  }
}

const agentSignals = (payload: unknown, runs: RunTracker, now: number): ReadonlyArray<AgentSignal> => {
  const parsed = AgentEventPayload.safeParse(payload)
  if (!parsed.success) return []
  const run = parsed.data
  const gatewayAgentId = run.agentId ?? agentIdOfSessionKey(run.sessionKey)
  if (gatewayAgentId === undefined) return []
  // When this service received it: the gateway's own clock (`ts`) may differ from the one the
  // deadlines run on (docs/operations.md §8).
  const at = now
  const heartbeat = run.isHeartbeat === true
  const signals: AgentSignal[] = []
  if (runs.start(run.runId, at)) {
    signals.push({ gatewayAgentId, event: { type: "gateway.run.started", at, source: "agent", runId: run.runId, heartbeat } })
  }
  const outcome = run.stream === "lifecycle" ? endingOf(run.data?.phase) : undefined
  if (outcome !== undefined) {
    runs.end(run.runId)
    const failure = run.data?.error ?? run.data?.fallbackStepFromFailureDetail
    signals.push({
      gatewayAgentId,
      event: { type: "gateway.run.ended", at, source: "agent", runId: run.runId, heartbeat, outcome, ...(outcome === "error" ? { failure: failure ?? "unknown error" } : {}) }
    })
  }
  return signals
}

/**
 * The agent signals in one pushed event (docs/gateway-protocol.md §6, §9): `agent` run frames (a
 * run's first frame starts it, its `lifecycle` end or error ends it; heartbeat runs are marked),
 * `sessions.changed` (but not the scheduler's own), and a `heartbeat` that names its agent. `health` and the connection's own
 * news are the watcher's (gateway-wide); `tick` and `presence` carry no agent.
 */
export const signalsFromEvent = (event: GatewayEvent, runs: RunTracker, now: number): ReadonlyArray<AgentSignal> => {
  switch (event.event) {
    case "agent":
      return agentSignals(event.payload, runs, now)
    case "sessions.changed": {
      const parsed = SessionsChangedPayload.safeParse(event.payload)
      if (!parsed.success || SCHEDULER_REASONS.has(parsed.data.reason ?? "")) return []
      const gatewayAgentId = parsed.data.agentId ?? agentIdOfSessionKey(parsed.data.sessionKey)
      if (gatewayAgentId === undefined) return []
      return [
        {
          gatewayAgentId,
          event: { type: "gateway.session.changed", at: now, source: "sessions.changed", sessionKey: parsed.data.sessionKey, reason: parsed.data.reason ?? "changed" }
        }
      ]
    }
    case "heartbeat": {
      const parsed = HeartbeatEventPayload.safeParse(event.payload)
      if (!parsed.success) return []
      const gatewayAgentId = parsed.data.agentId ?? agentIdOfSessionKey(parsed.data.sessionKey)
      if (gatewayAgentId === undefined) return []
      return [{ gatewayAgentId, event: { type: "gateway.heartbeat.run", at: now, source: "heartbeat", status: parsed.data.status ?? "unknown" } }]
    }
    default:
      return []
  }
}
