import type { GatewayHello } from "../gateway/GatewayClient.ts"
import { REACH_METHOD } from "./watcherReachability.ts"

/** What a gateway lacking a method or event costs (docs/operations.md §8). */
const SIGNALS = {
  methods: { "sessions.subscribe": "session changes are not watched", health: "effective heartbeats are not read (the configured limits apply)", "agents.list": "missing agents are not detected" },
  events: { agent: "runs are not seen", heartbeat: "heartbeat runs without a run id are not seen", health: "health is read by polling only" },
  /** The reachability probe's method: without it `health` probes reachability too (a fleet-sized answer every probe). */
  reach: "reachability is probed with health (its answer lists every agent)"
} as const

/**
 * What a gateway's `hello-ok.features` offer the watcher (docs/operations.md §8): whether it can
 * call `health` and the one-row reachability read, and each signal it lacks with what that costs
 * (the `degraded` list of the gateway's liveness status).
 */
export const watcherFeatures = (hello: GatewayHello) => {
  const degraded: string[] = []
  for (const [method, cost] of Object.entries(SIGNALS.methods)) {
    if (!hello.methods.includes(method)) degraded.push(`${method} (method): ${cost}`)
  }
  for (const [event, cost] of Object.entries(SIGNALS.events)) {
    if (!hello.events.includes(event)) degraded.push(`${event} (event): ${cost}`)
  }
  const offers = { health: hello.methods.includes("health"), reach: hello.methods.includes(REACH_METHOD) }
  if (!offers.reach) degraded.push(`${REACH_METHOD} (method): ${SIGNALS.reach}`)
  return { offers, degraded }
}
