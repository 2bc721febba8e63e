import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"

/**
 * The service's Prometheus metrics (`GET /metrics`), on `prom-client`: one registry per process,
 * as Prometheus scrapes a process. The instruments are plain values so that a hook is one call,
 * from Effect code and from the socket's callbacks alike. Node's own process metrics (CPU, heap,
 * event-loop lag, GC) come with it.
 */
export const metricsRegistry = new Registry()
collectDefaultMetrics({ register: metricsRegistry })

const registers = [metricsRegistry]

export const agentsByState = new Gauge({
  name: "switchyard_agents",
  help: "Agents (not deleted) by state path of the agent machine, from the read model at scrape time.",
  labelNames: ["state"] as const,
  registers
})

export const gatewayRpcDuration = new Histogram({
  name: "switchyard_gateway_rpc_duration_seconds",
  help: "Gateway RPC latency as the caller sees it (timeouts included), by method and outcome (ok or error).",
  labelNames: ["method", "outcome"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers
})

export const gatewayRpcErrors = new Counter({
  name: "switchyard_gateway_rpc_errors_total",
  help: "Failed gateway RPCs by method and code: the gateway's error code (e.g. UNAVAILABLE, INVALID_REQUEST), or TIMEOUT, CONNECTION_<reason>, PROTOCOL, NOT_PAIRED.",
  labelNames: ["method", "code"] as const,
  registers
})

export const gatewayReconnects = new Counter({
  name: "switchyard_gateway_reconnects_total",
  help: "Gateway sockets re-established after a lost connection (a restart, a policy change, a network drop), by gateway.",
  labelNames: ["gateway_id"] as const,
  registers
})

export const configPatches = new Counter({
  name: "switchyard_gateway_config_patches_total",
  help: "config.patch writes sent to gateways by the agent config batcher (one per batch).",
  registers
})

export const configPatchEntries = new Histogram({
  name: "switchyard_gateway_config_patch_entries",
  help: "Agent entries carried by one config.patch (how well writes are batched).",
  buckets: [1, 2, 5, 10, 20, 50, 100, 250],
  registers
})

export const eventToPersist = new Histogram({
  name: "switchyard_agent_event_persist_seconds",
  help: "From an event moving an agent actor to the resulting snapshot being saved in Postgres.",
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
  registers
})

export const heartbeatRuns = new Counter({
  name: "switchyard_llm_heartbeat_runs_total",
  help: "LLM heartbeat turns: runs the gateway marked as heartbeat runs (agent events with isHeartbeat), by gateway.",
  labelNames: ["gateway_id"] as const,
  registers
})

export const heartbeatTurnsPerAgentHour = new Gauge({
  name: "switchyard_llm_heartbeat_turns_per_agent_hour",
  help: "LLM heartbeat turns per agent-hour over the last hour (or since the watcher started), by gateway: the heartbeat budget (README \"Liveness\").",
  labelNames: ["gateway_id"] as const,
  registers
})

export const livenessRosterReads = new Counter({
  name: "switchyard_liveness_roster_reads_total",
  help: "Reads of our agents on a gateway by its liveness watcher, by gateway and cause (reconcile: start and reconciliation; signal: a signal from an agent not in the roster).",
  labelNames: ["gateway_id", "cause"] as const,
  registers
})

export const gatewayReachable = new Gauge({
  name: "switchyard_gateway_reachable",
  help: "1 while the gateway's liveness watcher reaches it, 0 while it does not.",
  labelNames: ["gateway_id"] as const,
  registers
})
