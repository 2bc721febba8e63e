import type { AgentContext, AgentEvent, ApplyOutput } from "./agentTypes.ts"
import { heartbeatMismatchOf, judge, judgedCauses, livenessOf, nextJudgmentAt, recordSignal, unreachableLimitAt } from "./liveness.ts"
import type { LivenessEvent, LivenessState, OfflineCause } from "./livenessTypes.ts"

/**
 * The liveness guards and context updates of the agent machine (docs/operations.md §8), as pure
 * functions of the context and the event; machines/agent/agentMachine.ts names them in `setup`.
 */

interface Args {
  readonly context: AgentContext
  readonly event: AgentEvent
}

type Update = Partial<AgentContext>

const isLivenessEvent = (event: AgentEvent): event is LivenessEvent => event.type.startsWith("gateway.")

/** The context after a gateway signal is recorded (what a guard judges). */
const withSignal = (context: AgentContext, event: AgentEvent): AgentContext =>
  isLivenessEvent(event) ? { ...context, liveness: recordSignal(context, event) } : context

/** The offline cause of an agent; a snapshot from before causes existed is read from its reason. */
const causeOf = (context: AgentContext): OfflineCause | null =>
  livenessOf(context).offlineCause ?? (context.offlineReason?.startsWith("no heartbeat for") === true ? "silent" : null)

const withCause = (liveness: LivenessState, offlineCause: OfflineCause | null): LivenessState => ({ ...liveness, offlineCause })

/** The agent's own curl-back is activity too, and proves its model turns work (failed runs are over). */
const curledBack = (liveness: LivenessState, at: number): LivenessState => {
  const recovered = liveness.failedRuns === 0 ? liveness : { ...liveness, failedRuns: 0 }
  return recovered.lastActivityAt !== null && recovered.lastActivityAt > at ? recovered : { ...recovered, lastActivityAt: at, lastActivitySource: "curl-back" }
}

/** The context after a curl-back: the agent checked in. */
const withCheckin = (context: AgentContext, at: number): AgentContext => ({ ...context, lastSeenAt: at, liveness: curledBack(livenessOf(context), at) })

/** The judgment as context: the reason, its cause, and no deadline (offline waits for a signal). */
const judgedOffline = (context: AgentContext, at: number): Update => {
  const judgment = judge(context, at)
  return judgment === null ? {} : { offlineReason: judgment.reason, liveness: withCause(livenessOf(context), judgment.cause), deadline: null }
}

export const livenessGuards = {
  signalJudgedOffline: ({ context, event }: Args) => judge(withSignal(context, event), event.at) !== null,
  signalJudgedLive: ({ context, event }: Args) => {
    const cause = causeOf(context)
    return cause !== null && judgedCauses.has(cause) && judge(withSignal(context, event), event.at) === null
  },
  judgedOffline: ({ context, event }: Args) => judge(context, event.at) !== null,
  // A curl-back proves the agent runs a model turn; it does not bring back an agent whose gateway
  // is away past its limit, lacks it, or runs another heartbeat.
  heartbeatJudgedOffline: ({ context, event }: Args) => judge(withCheckin(context, event.at), event.at) !== null
}

/** Online after a heartbeat or an apply: the agent's own check-in clears the offline reason, its error and its wake count. */
const goOnline = ({ context, event }: Args): Update => ({
  liveness: withCause(event.type === "agent.heartbeat" ? curledBack(livenessOf(context), event.at) : livenessOf(context), null),
  lastSeenAt: event.type === "agent.heartbeat" ? event.at : context.lastSeenAt,
  reportedStatus: event.type === "agent.heartbeat" ? (event.status ?? null) : context.reportedStatus,
  offlineReason: null,
  lastError: null,
  wakeAttempts: 0
})

/** Context updates; `assign` wraps each in machines/agent/agentMachine.ts. */
export const livenessUpdates = {
  recordHeartbeat: ({ context, event }: Args): Update =>
    event.type === "agent.heartbeat" ? { lastSeenAt: event.at, reportedStatus: event.status ?? null, liveness: curledBack(livenessOf(context), event.at) } : {},
  recordSignal: ({ context, event }: Args): Update => (isLivenessEvent(event) ? { liveness: recordSignal(context, event) } : {}),
  markJudgedOffline: ({ context, event }: Args): Update => judgedOffline(context, event.at),
  /**
   * Offline and still judged so: the reason names the cause that holds now. A curl-back answers
   * "did not check in" and "never seen", so after one the judgment replaces them too; a gateway
   * signal leaves them (only a curl-back or `agent.retry` clears them).
   */
  rejudgeOffline: ({ context, event }: Args): Update => {
    const cause = causeOf(context)
    const checkedIn = event.type === "agent.heartbeat"
    if (!checkedIn && (cause === null || !judgedCauses.has(cause))) return {}
    return judgedOffline(context, event.at)
  },
  goOnlineFromSignal: ({ context }: Args): Update => ({ offlineReason: null, lastError: null, wakeAttempts: 0, liveness: withCause(livenessOf(context), null) }),
  /** An update starts: the heartbeat read before it no longer says anything of what we will set. */
  unjudged: ({ context }: Args): Update => ({
    offlineReason: null,
    liveness: { ...livenessOf(context), heartbeat: null, heartbeatMismatch: null, offlineCause: null }
  }),
  /** After an apply: the agent exists on the gateway, and its effective heartbeat is what the apply read back. */
  appliedLiveness: ({ context, event }: Args): Update => {
    const liveness = { ...livenessOf(context), missingSince: null }
    const effective: ApplyOutput["effectiveHeartbeat"] = event.type === "apply.done" ? event.output.effectiveHeartbeat : undefined
    if (effective === undefined || effective === null) return { liveness }
    const heartbeat = { ...effective, at: event.at }
    return { liveness: { ...liveness, heartbeat, heartbeatMismatch: heartbeatMismatchOf(context.spec.heartbeat, heartbeat) } }
  },
  goOnline,
  /** The next instant the liveness judgment can change by itself (silence, the unreachable limit), or none. */
  armOfflineDeadline: ({ context }: Args): Update => ({ deadline: nextJudgmentAt(context) }),
  /**
   * A heartbeat while online: `goOnline` then `armOfflineDeadline`, as one update (every heartbeat
   * comes through here: one context copy and one intermediate snapshot fewer than two assigns).
   */
  beatOnline: (args: Args): Update => {
    const online = goOnline(args)
    return { ...online, deadline: nextJudgmentAt({ ...args.context, ...online }) }
  },
  /**
   * Offline for a cause the signals judge: the one change time brings by itself is the gateway
   * away past its limit, which outranks "heartbeat differs", "runs failing" and "silent"; the
   * reason must say so then. Otherwise nothing to wait for.
   */
  armRejudgeDeadline: ({ context }: Args): Update => {
    const cause = causeOf(context)
    const waits = cause !== null && judgedCauses.has(cause) && cause !== "gateway_unreachable" && cause !== "gateway_missing"
    return { deadline: waits ? unreachableLimitAt(context) : null }
  },
  // Offline, not `updating.awaiting`: a sync must not leave agents showing as updating (docs/operations.md §6.4); agent.retry wakes it.
  markNeverSeen: ({ context }: Args): Update => ({
    offlineReason: "no heartbeat yet; its files were applied without a wake (agent.retry wakes it)",
    liveness: withCause(livenessOf(context), "never_seen"),
    deadline: null
  }),
  markNoCheckin: ({ context }: Args): Update => ({
    offlineReason: `did not check in after wake (${context.wakeAttempts} wakes)`,
    liveness: withCause(livenessOf(context), "no_checkin"),
    deadline: null
  })
}
