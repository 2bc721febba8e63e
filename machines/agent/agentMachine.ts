import { assign, fromCallback, setup, type ActorRefFrom, type SnapshotFrom } from "xstate"
import type {
  AgentContext,
  AgentEvent,
  AgentInput,
  ApplyInput,
  ApplyOutput,
  ApplyRequest,
  DeadlineInput,
  LifecycleAction,
  RemoveInput,
  StepError,
  WakeInput
} from "./agentTypes.ts"
import { deadlineInput, identityOf } from "./invokeInputs.ts"
import { heartbeatMismatchOf, judge, judgedCauses, livenessOf, nextJudgmentAt, NO_DEADLINE, recordSignal } from "./liveness.ts"
import { offlineSignals, onlineSignals, recordEverywhere } from "./livenessTransitions.ts"
import type { LivenessEvent, LivenessState, OfflineCause } from "./livenessTypes.ts"
import { lifecycleStates } from "./lifecycleStates.ts"
import { retryDelayMs } from "./retryDelay.ts"

/**
 * Bumped whenever a change would misread a snapshot persisted by the previous version. Liveness
 * (`context.liveness`, the policy's liveness limits) is additive and optional: a snapshot from
 * before it reads as "no gateway signal yet", so it kept version 1.
 */
export const AGENT_MACHINE_VERSION = "1"

/**
 * Placeholder for a side-effect actor: `src/agents` provides the real one with `.provide()`.
 * Running the machine unprovided is a wiring bug, so it fails loudly.
 */
const unprovided = <I>(name: string) =>
  fromCallback<AgentEvent, I>(() => {
    throw new Error(`agent machine: actor "${name}" was not provided`)
  })

/**
 * Fires `deadline.reached` at an absolute instant. Timeouts are deadlines in context plus this
 * invoked waiter, because XState does not restore `after` timers (docs/architecture.md §3.3); a restored actor
 * re-invokes it and it fires on time, or at once if the instant has passed.
 */
export const wallClockDeadline = fromCallback<AgentEvent, DeadlineInput>(({ input, sendBack }) => {
  let timer: ReturnType<typeof setTimeout>
  // setTimeout caps a delay at ~24.8 days; a longer deadline re-arms until it is really due.
  const arm = () => {
    const left = input.at - Date.now()
    if (left <= 0) return sendBack({ type: "deadline.reached", at: Date.now() })
    timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1))
  }
  timer = setTimeout(arm, 0)
  return () => clearTimeout(timer)
})

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

/** An update starts: the heartbeat read before it no longer says anything of what we will set. */
const unjudged = (liveness: LivenessState): LivenessState => ({ ...liveness, heartbeat: null, heartbeatMismatch: null, offlineCause: null })

/** After an apply: the agent exists on the gateway, and its effective heartbeat is what the apply read back. */
const appliedLiveness = (context: AgentContext, effective: ApplyOutput["effectiveHeartbeat"], at: number): LivenessState => {
  const liveness = { ...livenessOf(context), missingSince: null }
  if (effective === undefined || effective === null) return liveness
  const heartbeat = { ...effective, at }
  return { ...liveness, heartbeat, heartbeatMismatch: heartbeatMismatchOf(context.spec.heartbeat, heartbeat) }
}

const requestFor = (action: LifecycleAction, options?: Partial<Omit<ApplyRequest, "action">>): ApplyRequest => ({
  action,
  resetSession: options?.resetSession ?? action === "update",
  forceBootstrap: options?.forceBootstrap ?? false,
  rotateToken: options?.rotateToken ?? true,
  wake: options?.wake ?? true,
  overwrite: options?.overwrite ?? false
})

/**
 * The agent lifecycle. Pure: side effects are the named actors `applyAgent`, `wakeAgent`,
 * `removeAgent` and `deadline`, provided by `src/agents`. Top-level states are the agent's
 * status; failure and retry are substates (`provisioning.retrying`, `updating.failed`), never
 * a sticky status. Tags: `busy` while gateway work is under way, `live` while online.
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentContext,
    events: {} as AgentEvent,
    input: {} as AgentInput
  },
  actors: {
    applyAgent: unprovided<ApplyInput>("applyAgent"),
    wakeAgent: unprovided<WakeInput>("wakeAgent"),
    removeAgent: unprovided<RemoveInput>("removeAgent"),
    deadline: wallClockDeadline
  },
  guards: {
    canRetry: ({ context, event }) =>
      "error" in event && event.error.transient && context.attempts + 1 < context.policy.maxAttempts,
    skipsWakeSeen: ({ context }) => context.request.wake === false && context.lastSeenAt !== null,
    skipsWakeUnseen: ({ context }) => context.request.wake === false && context.lastSeenAt === null,
    hasWakesLeft: ({ context }) => context.wakeAttempts < context.policy.maxWakeAttempts,
    isForced: ({ event }) => event.type === "agent.delete" && event.force === true,
    isNewIdentity: ({ context, event }) =>
      event.type === "agent.convert" &&
      (event.identity.gatewayAgentId !== context.gatewayAgentId || event.identity.boardId !== context.boardId || event.identity.role !== context.role),
    isWantedUpdate: ({ event }) =>
      event.type === "agent.update" && (event.force === true || Object.keys(event.changes).length > 0),
    signalJudgedOffline: ({ context, event }) => judge(withSignal(context, event), event.at) !== null,
    signalJudgedLive: ({ context, event }) => {
      const cause = causeOf(context)
      return cause !== null && judgedCauses.has(cause) && judge(withSignal(context, event), event.at) === null
    },
    judgedOffline: ({ context, event }) => judge(context, event.at) !== null,
    // A curl-back proves the agent runs a model turn; it does not bring back an agent whose gateway
    // is away past its limit, lacks it, or runs another heartbeat.
    heartbeatJudgedOffline: ({ context, event }) =>
      judge({ ...context, lastSeenAt: event.at, liveness: curledBack(livenessOf(context), event.at) }, event.at) !== null
  },
  actions: {
    recordHeartbeat: assign(({ context, event }) =>
      event.type === "agent.heartbeat"
        ? { lastSeenAt: event.at, reportedStatus: event.status ?? null, liveness: curledBack(livenessOf(context), event.at) }
        : {}
    ),
    recordSignal: assign(({ context, event }) => (isLivenessEvent(event) ? { liveness: recordSignal(context, event) } : {})),
    markJudgedOffline: assign(({ context, event }) => {
      const judgment = judge(context, event.at)
      return judgment === null ? {} : { offlineReason: judgment.reason, liveness: withCause(livenessOf(context), judgment.cause), deadline: null }
    }),
    rejudgeOffline: assign(({ context, event }) => {
      const cause = causeOf(context)
      if (cause === null || !judgedCauses.has(cause)) return {}
      const judgment = judge(context, event.at)
      return judgment === null ? {} : { offlineReason: judgment.reason, liveness: withCause(livenessOf(context), judgment.cause) }
    }),
    goOnlineFromSignal: assign(({ context }) => ({
      offlineReason: null,
      lastError: null,
      wakeAttempts: 0,
      liveness: withCause(livenessOf(context), null)
    })),
    // A wake's run under way: the check-in it should end in gets a full window from now.
    extendCheckin: assign(({ context, event }) => ({ deadline: Math.max(context.deadline ?? 0, event.at + context.policy.checkinTimeoutMs) })),
    recordFailure: assign(({ context, event }) =>
      "error" in event ? { lastError: event.error, attempts: context.attempts + 1 } : {}
    ),
    // Runs after recordFailure, so `attempts` already counts this failure.
    scheduleRetry: assign(({ context, event }) =>
      "error" in event ? { deadline: event.at + retryDelayMs(context.attempts, context.policy.retryBaseMs, event.error.retryAfterMs) } : {}
    ),
    clearDeadline: assign({ deadline: null }),
    adoptPolicy: assign(({ context, event }) => (event.type === "system.policy" ? { policy: event.policy } : { policy: context.policy })),
    acceptApply: assign(({ context, event }) => ({
      liveness: appliedLiveness(context, event.type === "apply.done" ? event.output.effectiveHeartbeat : undefined, event.at),
      retired: null,
      tokenHash: event.type === "apply.done" ? event.output.tokenHash : null,
      tokenSource: event.type === "apply.done" ? event.output.tokenSource : null,
      workspaceSeeded: true,
      attempts: 0,
      wakeAttempts: 0,
      lastError: null
    })),
    acceptWake: assign(({ context, event }) => ({
      attempts: 0,
      wakeAttempts: context.wakeAttempts + 1,
      deadline: event.at + context.policy.checkinTimeoutMs
    })),
    startUpdate: assign(({ context, event }) => {
      if (event.type === "agent.update") {
        return {
          spec: { ...context.spec, ...event.changes },
          request: requestFor("update", event.options),
          generation: context.generation + 1,
          attempts: 0,
          offlineReason: null,
          liveness: unjudged(livenessOf(context))
        }
      }
      return { request: requestFor("update"), generation: context.generation + 1, attempts: 0, offlineReason: null, liveness: unjudged(livenessOf(context)) }
    }),
    startConversion: assign(({ context, event }) => {
      if (event.type !== "agent.convert") return {}
      // The first identity is the one to retire: an earlier conversion not yet applied never created it.
      const original = context.retired ?? { gatewayAgentId: context.gatewayAgentId, sessionKey: context.sessionKey }
      return {
        ...event.identity,
        retired: original.gatewayAgentId === event.identity.gatewayAgentId ? null : original,
        request: requestFor("update", { rotateToken: true, resetSession: false }),
        generation: context.generation + 1,
        // A new gateway agent has a fresh workspace: seed it whole.
        workspaceSeeded: false,
        attempts: 0,
        offlineReason: null
      }
    }),
    markRemovedLocally: assign({ offlineReason: "removed locally; the gateway was not cleaned up (forced delete)" }),
    retryNow: assign(({ context }) => ({ attempts: 0, generation: context.generation + 1, deadline: null })),
    goOnline: assign(({ context, event }) => ({
      liveness: withCause(event.type === "agent.heartbeat" ? curledBack(livenessOf(context), event.at) : livenessOf(context), null),
      lastSeenAt: event.type === "agent.heartbeat" ? event.at : context.lastSeenAt,
      reportedStatus: event.type === "agent.heartbeat" ? (event.status ?? null) : context.reportedStatus,
      offlineReason: null,
      lastError: null,
      wakeAttempts: 0
    })),
    // The next instant the liveness judgment can change by itself (silence, the unreachable limit), or none.
    armOfflineDeadline: assign(({ context }) => ({ deadline: nextJudgmentAt(context) })),
    // Offline, not `updating.awaiting`: a sync must not leave agents showing as updating (docs/operations.md §6.4); agent.retry wakes it.
    markNeverSeen: assign(({ context }) => ({
      offlineReason: "no heartbeat yet; its files were applied without a wake (agent.retry wakes it)",
      liveness: withCause(livenessOf(context), "never_seen"),
      deadline: null
    })),
    markNoCheckin: assign(({ context }) => ({
      offlineReason: `did not check in after wake (${context.wakeAttempts} wakes)`,
      liveness: withCause(livenessOf(context), "no_checkin"),
      deadline: null
    }))
  }
}).createMachine({
  id: "agent",
  version: AGENT_MACHINE_VERSION,
  context: ({ input }) => ({
    ...input,
    request: requestFor("provision"),
    generation: 1,
    attempts: 0,
    wakeAttempts: 0,
    lastError: null,
    lastSeenAt: null,
    reportedStatus: null,
    tokenHash: null,
    tokenSource: null,
    workspaceSeeded: false,
    deadline: null,
    offlineReason: null,
    retired: null
  }),
  initial: "provisioning",
  on: {
    "agent.heartbeat": { actions: "recordHeartbeat" },
    "agent.update": { guard: "isWantedUpdate", target: ".updating", actions: "startUpdate" },
    "agent.delete": { target: ".deleting" },
    "agent.convert": { guard: "isNewIdentity", target: ".updating", actions: "startConversion" },
    "system.policy": { actions: "adoptPolicy" },
    ...recordEverywhere()
  },
  states: {
    provisioning: { tags: ["busy"], ...lifecycleStates() },
    updating: { tags: ["busy"], ...lifecycleStates() },
    online: {
      tags: ["live"],
      entry: "armOfflineDeadline",
      // Nothing to wait for (heartbeats off, gateway there): the waiter is parked at "never".
      invoke: { src: "deadline", input: ({ context }) => ({ at: context.deadline ?? NO_DEADLINE }) },
      on: {
        "agent.heartbeat": { target: "online", reenter: true, actions: "goOnline" },
        "deadline.reached": [
          { guard: "judgedOffline", target: "offline", actions: "markJudgedOffline" },
          { target: "online", reenter: true }
        ],
        // Re-entering re-arms the offline deadline under the new threshold.
        "system.policy": { target: "online", reenter: true, actions: "adoptPolicy" },
        ...onlineSignals()
      }
    },
    offline: {
      on: {
        "agent.heartbeat": [
          { guard: "heartbeatJudgedOffline", actions: ["recordHeartbeat", "rejudgeOffline"] },
          { target: "online", actions: "goOnline" }
        ],
        "agent.retry": { target: "updating", actions: "startUpdate" },
        ...offlineSignals()
      }
    },
    deleting: {
      tags: ["busy"],
      initial: "removing",
      entry: assign({ attempts: 0, deadline: null }),
      on: { "agent.update": {}, "agent.delete": {}, "agent.convert": {} },
      states: {
        removing: {
          invoke: { src: "removeAgent", input: ({ context }) => identityOf(context) },
          on: {
            "remove.done": { target: "#agent.deleted", actions: "clearDeadline" },
            "remove.failed": [
              { guard: "canRetry", target: "retrying", actions: ["recordFailure", "scheduleRetry"] },
              { target: "failed", actions: "recordFailure" }
            ]
          }
        },
        retrying: {
          invoke: { src: "deadline", input: deadlineInput },
          on: { "deadline.reached": "removing" }
        },
        failed: {
          on: {
            "agent.retry": { target: "removing", actions: "retryNow" },
            "agent.delete": [
              { guard: "isForced", target: "#agent.deleted", actions: "markRemovedLocally" },
              { target: "removing", actions: "retryNow" }
            ]
          }
        }
      }
    },
    deleted: { type: "final" }
  }
})

export type AgentMachine = typeof agentMachine
export type AgentActor = ActorRefFrom<AgentMachine>
export type AgentSnapshot = SnapshotFrom<AgentMachine>
export type { ApplyOutput }
