import { livenessEventTypes, type LivenessEventType } from "./livenessTypes.ts"

type Transitions<T> = { readonly [K in LivenessEventType]: T }

const each = <T>(make: () => T): Transitions<T> =>
  Object.fromEntries(livenessEventTypes.map((type) => [type, make()])) as unknown as Transitions<T>

/** In every state: a gateway signal is recorded (the states below also judge it). */
export const recordEverywhere = () => each(() => ({ actions: "recordSignal" as const }))

/**
 * Online: a signal that leaves a missing signal behind takes the agent offline with the reason;
 * any other re-enters online, re-arming the deadline at the next instant the judgment can change.
 */
export const onlineSignals = () =>
  each(() => [
    { guard: "signalJudgedOffline" as const, target: "#agent.offline", actions: ["recordSignal", "markJudgedOffline"] as const },
    { target: "#agent.online", reenter: true, actions: "recordSignal" as const }
  ])

/**
 * Offline: when the missing signal returns (and nothing else is missing) the agent is online
 * again by itself; while it is still judged offline the reason follows the current judgment.
 */
export const offlineSignals = () =>
  each(() => [
    { guard: "signalJudgedLive" as const, target: "#agent.online", actions: ["recordSignal", "goOnlineFromSignal"] as const },
    { actions: ["recordSignal", "rejudgeOffline"] as const }
  ])
