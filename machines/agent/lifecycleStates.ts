import type { AgentContext, WakeInput } from "./agentTypes.ts"
import { applyInput, identityOf } from "./invokeInputs.ts"
import { TIMED } from "./pendingDeadline.ts"

/**
 * The substates shared by provisioning and updating: apply on the gateway, wake, await the
 * check-in. A transient failure waits in `retrying` (apply) or `wakeRetrying` (wake) until its
 * deadline (the `timed` tag: the host fires `deadline.reached`, machines/agent/pendingDeadline.ts); a terminal one, or too many attempts, stops in `failed` until `agent.retry`.
 */
export function lifecycleStates() {
  return {
    initial: "applying" as const,
    states: {
      applying: {
        entry: "clearDeadline" as const,
        invoke: { src: "applyAgent" as const, input: applyInput },
        on: {
          // Without a wake (template sync) liveness is what the heartbeats say: online re-arms the
          // offline deadline from the last heartbeat, and an agent never seen waits offline.
          "apply.done": [
            { guard: "skipsWakeSeen" as const, target: "#agent.online", actions: "acceptApply" as const },
            { guard: "skipsWakeUnseen" as const, target: "#agent.offline", actions: ["acceptApply", "markNeverSeen"] as const },
            { target: "waking", actions: "acceptApply" as const }
          ],
          "apply.failed": [
            { guard: "canRetry" as const, target: "retrying", actions: ["recordFailure", "scheduleRetry"] as const },
            { target: "failed", actions: "recordFailure" as const }
          ]
        }
      },
      retrying: {
        tags: [TIMED],
        on: { "deadline.reached": "applying" }
      },
      // A failed wake is retried on its own: re-applying would mint a new token and reset the counters.
      wakeRetrying: {
        tags: [TIMED],
        on: { "deadline.reached": "waking" }
      },
      waking: {
        invoke: {
          src: "wakeAgent" as const,
          input: ({ context }: { context: AgentContext }): WakeInput => ({
            ...identityOf(context),
            name: context.spec.name,
            action: context.request.action,
            generation: context.generation,
            attempt: context.wakeAttempts + 1
          })
        },
        on: {
          "wake.done": { target: "awaiting", actions: "acceptWake" as const },
          "wake.failed": [
            { guard: "canRetry" as const, target: "wakeRetrying", actions: ["recordFailure", "scheduleRetry"] as const },
            { target: "failed", actions: "recordFailure" as const }
          ],
          "agent.heartbeat": { target: "#agent.online", actions: "goOnline" as const }
        }
      },
      awaiting: {
        tags: [TIMED],
        on: {
          "agent.heartbeat": { target: "#agent.online", actions: "goOnline" as const },
          // The wake's run is under way on the gateway: its check-in gets a full window from now,
          // within the wake's limit (machines/agent/checkin.ts); past it the run is only recorded.
          "gateway.run.started": [
            { guard: "extendsCheckin" as const, target: "awaiting", reenter: true, actions: ["recordSignal", "extendCheckin"] as const },
            { actions: "recordSignal" as const }
          ],
          "deadline.reached": [
            { guard: "hasWakesLeft" as const, target: "waking" },
            { target: "#agent.offline", actions: "markNoCheckin" as const }
          ]
        }
      },
      failed: {
        entry: "clearDeadline" as const,
        on: { "agent.retry": { target: "applying", actions: "retryNow" as const } }
      }
    }
  }
}
