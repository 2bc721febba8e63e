/**
 * The transitions of the gateway's liveness signals: every `gateway.*` event
 * (machines/agent/livenessTypes.ts). One wildcard handler per state keeps the statechart
 * readable; the guards and actions read the event itself.
 */

/** In every state: a gateway signal is recorded (online and offline also judge it). */
export const recordEverywhere = () => ({ "gateway.*": { actions: "recordSignal" as const } })

/**
 * Online: a signal that leaves a missing signal behind takes the agent offline with the reason;
 * any other re-enters online, re-arming the deadline at the next instant the judgment can change.
 */
export const onlineSignals = () => ({
  "gateway.*": [
    { guard: "signalJudgedOffline" as const, target: "#agent.offline", actions: ["recordSignal", "markJudgedOffline"] as const },
    { target: "#agent.online", reenter: true, actions: "recordSignal" as const }
  ]
})

/**
 * Offline: when the missing signal returns (and nothing else is missing) the agent is online
 * again by itself; while it is still judged offline the reason follows the current judgment, and
 * re-entering re-arms the waiter for the gateway's unreachable limit.
 */
export const offlineSignals = () => ({
  "gateway.*": [
    { guard: "signalJudgedLive" as const, target: "#agent.online", actions: ["recordSignal", "goOnlineFromSignal"] as const },
    { target: "#agent.offline", reenter: true, actions: ["recordSignal", "rejudgeOffline"] as const }
  ]
})
