import { assign, fromCallback, setup, type ActorRefFrom, type SnapshotFrom } from "xstate"
import type {
  AgentContext,
  AgentEvent,
  AgentInput,
  ApplyInput,
  ApplyOutput,
  ApplyRequest,
  LifecycleAction,
  RemoveInput,
  WakeInput
} from "./agentTypes.ts"
import { checkinUpdates, extendsCheckin } from "./checkin.ts"
import { identityOf } from "./invokeInputs.ts"
import { livenessGuards, livenessUpdates as live } from "./livenessActions.ts"
import { offlineSignals, onlineSignals, recordEverywhere } from "./livenessTransitions.ts"
import { lifecycleStates } from "./lifecycleStates.ts"
import { TIMED } from "./pendingDeadline.ts"
import { retryDelayMs } from "./retryDelay.ts"

/**
 * Bumped whenever a change would misread a snapshot persisted by the previous version. Liveness
 * (`context.liveness`, the policy's liveness limits) is additive and optional: a snapshot from
 * before it reads as "no gateway signal yet", so it kept version 1. Nor did dropping the invoked
 * `deadline` waiter: a snapshot that holds one restores without it (XState skips a child whose
 * logic is unknown) and the host arms the same `context.deadline` (docs/architecture.md §3.3).
 * Nor did `context.syncedBy` (optional: a snapshot without it has had no sync update recorded).
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

const requestFor = (action: LifecycleAction, options?: Partial<Omit<ApplyRequest, "action">>): ApplyRequest => ({
  action,
  resetSession: options?.resetSession ?? action === "update",
  forceBootstrap: options?.forceBootstrap ?? false,
  rotateToken: options?.rotateToken ?? true,
  wake: options?.wake ?? true,
  overwrite: options?.overwrite ?? false,
  ...(options?.syncJob === undefined ? {} : { syncJob: options.syncJob })
})

/**
 * The agent lifecycle. Pure: side effects are the named actors `applyAgent`, `wakeAgent` and
 * `removeAgent`, provided by `src/agents`. A state tagged `timed` waits for `context.deadline`:
 * its host sends `deadline.reached` then (`pendingDeadline`, docs/architecture.md §3.3).
 * Top-level states are the agent's status; failure and retry are substates
 * (`provisioning.retrying`, `updating.failed`), never a sticky status. Tags: `busy` while gateway work is under way, `live` while online, `timed`
 * while a deadline is awaited.
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
    removeAgent: unprovided<RemoveInput>("removeAgent")
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
    ...livenessGuards,
    extendsCheckin
  },
  actions: {
    recordHeartbeat: assign(live.recordHeartbeat),
    recordSignal: assign(live.recordSignal),
    markJudgedOffline: assign(live.markJudgedOffline),
    rejudgeOffline: assign(live.rejudgeOffline),
    goOnlineFromSignal: assign(live.goOnlineFromSignal),
    goOnline: assign(live.goOnline),
    armOfflineDeadline: assign(live.armOfflineDeadline),
    beatOnline: assign(live.beatOnline),
    armRejudgeDeadline: assign(live.armRejudgeDeadline),
    markNeverSeen: assign(live.markNeverSeen),
    markNoCheckin: assign(live.markNoCheckin),
    acceptWake: assign(checkinUpdates.acceptWake),
    extendCheckin: assign(checkinUpdates.extendCheckin),
    recordFailure: assign(({ context, event }) =>
      "error" in event ? { lastError: event.error, attempts: context.attempts + 1 } : {}
    ),
    // Runs after recordFailure, so `attempts` already counts this failure.
    scheduleRetry: assign(({ context, event }) =>
      "error" in event ? { deadline: event.at + retryDelayMs(context.attempts, context.policy.retryBaseMs, event.error.retryAfterMs) } : {}
    ),
    clearDeadline: assign({ deadline: null }),
    adoptPolicy: assign(({ context, event }) => (event.type === "system.policy" ? { policy: event.policy } : { policy: context.policy })),
    acceptApply: assign((args) => ({
      ...live.appliedLiveness(args),
      retired: null,
      tokenHash: args.event.type === "apply.done" ? args.event.output.tokenHash : null,
      tokenSource: args.event.type === "apply.done" ? args.event.output.tokenSource : null,
      workspaceSeeded: true,
      attempts: 0,
      wakeAttempts: 0,
      lastError: null
    })),
    startUpdate: assign((args) => {
      const { context, event } = args
      const changes = event.type === "agent.update" ? { spec: { ...context.spec, ...event.changes }, request: requestFor("update", event.options) } : { request: requestFor("update") }
      const generation = context.generation + 1
      // A template sync's update is remembered past later updates (docs/architecture.md §9.2).
      const syncJob = event.type === "agent.update" ? event.options?.syncJob : undefined
      return { ...changes, ...live.unjudged(args), ...(syncJob === undefined ? {} : { syncedBy: { job: syncJob, generation } }), generation, attempts: 0 }
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
    retryNow: assign(({ context }) => ({ attempts: 0, generation: context.generation + 1, deadline: null }))
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
      // Nothing to wait for (heartbeats off, gateway there): no deadline, none is armed.
      tags: ["live", TIMED],
      entry: "armOfflineDeadline",
      on: {
        // What re-entering would do (`online` has no exit, no invoke): the entry's deadline re-armed after
        // `goOnline`, without leaving and entering the state (every heartbeat comes through here), in one assign.
        "agent.heartbeat": { actions: "beatOnline" },
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
      // No deadline unless the gateway is away and its limit would change the reason.
      tags: [TIMED],
      entry: "armRejudgeDeadline",
      on: {
        "deadline.reached": { target: "offline", reenter: true, actions: "rejudgeOffline" },
        "agent.heartbeat": [
          { guard: "heartbeatJudgedOffline", target: "offline", reenter: true, actions: ["recordHeartbeat", "rejudgeOffline"] },
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
          tags: [TIMED],
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
