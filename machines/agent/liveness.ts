import type { AgentContext, AgentPolicy, HeartbeatConfig } from "./agentTypes.ts"
import {
  initialLiveness,
  type EffectiveHeartbeat,
  type LivenessEvent,
  type LivenessState,
  type OfflineCause,
  type SignalSource
} from "./livenessTypes.ts"

/** Liveness defaults for a policy from before these limits existed (docs/operations.md §8). */
export const LIVENESS_DEFAULTS = {
  offlineFactor: 1.5,
  offlineGraceMs: 60_000,
  gatewayLostAfterMs: 90_000,
  maxFailedRuns: 3
} as const

/** The agent's liveness; a snapshot from before liveness existed reads as no signal yet. */
export const livenessOf = (context: AgentContext): LivenessState => context.liveness ?? initialLiveness

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `"10m"` → 600 000; `"0m"` → 0 (heartbeats disabled); anything unreadable → null. */
export const everyToMs = (every: string): number | null => {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(every.trim())
  if (match === null) return every === "disabled" ? 0 : null
  return Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN)
}

/** Whether the spec asks for recurring LLM heartbeats (`every` above zero). */
export const heartbeatWanted = (heartbeat: HeartbeatConfig): boolean => (everyToMs(heartbeat.every) ?? 1) > 0

/** Why the effective heartbeat differs from the one we set, or null when it matches (docs/operations.md §8). */
export const heartbeatMismatchOf = (wanted: HeartbeatConfig, effective: EffectiveHeartbeat): string | null => {
  const wantedMs = everyToMs(wanted.every)
  if (wantedMs === null) return null
  if (wantedMs === 0) return effective.enabled ? `heartbeat runs every ${effective.every} on the gateway; we disabled it (${wanted.every})` : null
  if (!effective.enabled) return `heartbeat disabled on the gateway; we set every ${wanted.every}`
  return effective.everyMs === wantedMs ? null : `heartbeat runs every ${effective.every} on the gateway; we set ${wanted.every}`
}

const policyValue = <K extends keyof typeof LIVENESS_DEFAULTS>(policy: AgentPolicy, key: K): number => policy[key] ?? LIVENESS_DEFAULTS[key]

/**
 * Silence (ms) after the last sign of life before an agent that should be heartbeating counts as
 * silent: factor × the effective `everyMs` + grace, never below the configured `offlineAfterMs`
 * (the default and floor when the gateway has not said; docs/operations.md §8).
 */
export const silenceLimitMs = (context: AgentContext): number => {
  const everyMs = livenessOf(context).heartbeat?.everyMs ?? null
  const floor = context.policy.offlineAfterMs
  const factor = policyValue(context.policy, "offlineFactor")
  // Factor 0: the floor alone, as before the limit followed the interval.
  if (everyMs === null || everyMs <= 0 || factor <= 0) return floor
  return Math.max(floor, Math.round(factor * everyMs + policyValue(context.policy, "offlineGraceMs")))
}

/** Whether silence means something: the agent should run heartbeats (ours and the gateway's agree it does). */
const expectsHeartbeats = (context: AgentContext): boolean => {
  const effective = livenessOf(context).heartbeat
  return heartbeatWanted(context.spec.heartbeat) && (effective === null || effective.enabled)
}

/** Epoch ms of the last sign of life of any kind (curl-back or gateway activity). */
export const lastSignalAt = (context: AgentContext): number | null => {
  const instants = [livenessOf(context).lastActivityAt, context.lastSeenAt].filter((at): at is number => at !== null)
  return instants.length === 0 ? null : Math.max(...instants)
}

/** Where silence is counted from: the last sign of life, moved on by the gateway's outages since (a gateway away says nothing). */
const silenceFrom = (context: AgentContext): number => Math.max(lastSignalAt(context) ?? 0, livenessOf(context).gatewayRegainedAt ?? 0)

/** A judgment that the agent is not live, with the cause and the reason in words. */
export interface OfflineJudgment {
  readonly cause: OfflineCause
  readonly reason: string
}

const seconds = (ms: number) => Math.round(ms / 1_000)

/**
 * The liveness judgment at `at` over every signal (docs/operations.md §8): null when the agent
 * is live, else the first missing signal, in this order: the agent deleted on the gateway, the
 * gateway unreachable past its threshold, the heartbeat different from what we set, runs
 * failing, no activity within the silence limit.
 */
export const judge = (context: AgentContext, at: number): OfflineJudgment | null => {
  const liveness = livenessOf(context)
  if (liveness.missingSince !== null) {
    return { cause: "gateway_missing", reason: `deleted on the gateway: ${context.gatewayAgentId} is missing from agents.list` }
  }
  const lostAfterMs = policyValue(context.policy, "gatewayLostAfterMs")
  if (!liveness.gatewayReachable && liveness.gatewayLostAt !== null && at - liveness.gatewayLostAt >= lostAfterMs) {
    return { cause: "gateway_unreachable", reason: `gateway unreachable for more than ${seconds(lostAfterMs)} s` }
  }
  if (liveness.heartbeatMismatch !== null) return { cause: "heartbeat_mismatch", reason: liveness.heartbeatMismatch }
  const maxFailedRuns = policyValue(context.policy, "maxFailedRuns")
  if (liveness.failedRuns >= maxFailedRuns) {
    return { cause: "runs_failing", reason: `runs failing (${liveness.failedRuns} in a row): ${liveness.lastRun?.error ?? "unknown error"}` }
  }
  // While the gateway is away its silence says nothing of the agent: silence counts up to the loss
  // (an agent silent before it stays so), and the unreachable limit decides the rest.
  if (expectsHeartbeats(context)) {
    const limit = silenceLimitMs(context)
    const until = liveness.gatewayReachable ? at : (liveness.gatewayLostAt ?? at)
    if (until - silenceFrom(context) >= limit) {
      const what = liveness.lastActivitySource === null || liveness.lastActivitySource === "curl-back" ? "heartbeat" : "heartbeat or gateway activity"
      return { cause: "silent", reason: `no ${what} for ${seconds(limit)} s` }
    }
  }
  return null
}

/** While the gateway is unreachable: the instant its agents are judged "gateway unreachable"; else null. */
export const unreachableLimitAt = (context: AgentContext): number | null => {
  const liveness = livenessOf(context)
  return !liveness.gatewayReachable && liveness.gatewayLostAt !== null ? liveness.gatewayLostAt + policyValue(context.policy, "gatewayLostAfterMs") : null
}

/** When the judgment can next change by itself (silence or the unreachable limit), or null. */
export const nextJudgmentAt = (context: AgentContext): number | null => {
  const unreachableAt = unreachableLimitAt(context)
  if (unreachableAt !== null) return unreachableAt
  return expectsHeartbeats(context) ? silenceFrom(context) + silenceLimitMs(context) : null
}

const activity = (liveness: LivenessState, at: number, source: SignalSource): LivenessState =>
  liveness.lastActivityAt !== null && liveness.lastActivityAt > at ? liveness : { ...liveness, lastActivityAt: at, lastActivitySource: source }

/** The liveness after one gateway signal (pure; the machine's `recordSignal` action). */
export const recordSignal = (context: AgentContext, event: LivenessEvent): LivenessState => {
  const liveness = livenessOf(context)
  switch (event.type) {
    case "gateway.run.started":
      return {
        ...activity(liveness, event.at, event.source),
        lastRun: { runId: event.runId, heartbeat: event.heartbeat, startedAt: event.at, endedAt: null, outcome: "running", error: null }
      }
    case "gateway.run.ended": {
      const startedAt = liveness.lastRun?.runId === event.runId ? liveness.lastRun.startedAt : null
      const failed = event.outcome === "error"
      return {
        ...activity(liveness, event.at, event.source),
        lastRun: { runId: event.runId, heartbeat: event.heartbeat, startedAt, endedAt: event.at, outcome: event.outcome, error: failed ? (event.failure ?? "unknown error") : null },
        failedRuns: failed ? liveness.failedRuns + 1 : event.outcome === "ok" ? 0 : liveness.failedRuns
      }
    }
    case "gateway.session.changed":
    case "gateway.heartbeat.run":
      return activity(liveness, event.at, event.source)
    case "gateway.heartbeat.effective": {
      const heartbeat: EffectiveHeartbeat = { enabled: event.enabled, every: event.every, everyMs: event.everyMs, at: event.at }
      return { ...liveness, heartbeat, heartbeatMismatch: heartbeatMismatchOf(context.spec.heartbeat, heartbeat) }
    }
    case "gateway.connection.lost":
      return liveness.gatewayReachable ? { ...liveness, gatewayReachable: false, gatewayLostAt: event.at } : liveness
    case "gateway.connection.regained": {
      if (liveness.gatewayReachable) return liveness
      // The outage is left out of the silence, not the silence before it: a gateway that blinks
      // does not make a silent agent look alive (docs/operations.md §8).
      const from = silenceFrom(context)
      const lostAt = liveness.gatewayLostAt
      const countsFrom = lostAt === null || lastSignalAt(context) === null ? event.at : from <= lostAt ? from + (event.at - lostAt) : from
      return { ...liveness, gatewayReachable: true, gatewayLostAt: null, gatewayRegainedAt: countsFrom }
    }
    case "gateway.agent.missing":
      return liveness.missingSince === null ? { ...liveness, missingSince: event.at } : liveness
    case "gateway.agent.present":
      return { ...liveness, missingSince: null }
  }
}

/** Causes the signals judge, and so can clear by themselves when the signal returns. */
export const judgedCauses: ReadonlySet<OfflineCause> = new Set(["silent", "gateway_unreachable", "gateway_missing", "heartbeat_mismatch", "runs_failing"])
