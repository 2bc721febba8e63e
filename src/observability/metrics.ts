import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"

/**
 * The service's Prometheus metrics (`GET /metrics`, docs/operations.md §3.2), on `prom-client`: one
 * registry per process, as Prometheus scrapes a process. The instruments are plain values so
 * that a hook is one call, from Effect code and from the socket's callbacks alike. Node's own
 * process metrics (CPU, heap, event-loop lag, GC) come with it.
 */
export const metricsRegistry = new Registry()
collectDefaultMetrics({ register: metricsRegistry })

const registers = [metricsRegistry]

/** A counter in this registry, with its label names (none by default). */
const counter = <const L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []) => new Counter<L>({ name, help, labelNames, registers })

/** A gauge in this registry, with its label names. */
const gauge = <const L extends string>(name: string, help: string, labelNames: ReadonlyArray<L>) => new Gauge<L>({ name, help, labelNames, registers })

/** A histogram in this registry with its bucket bounds (in the metric's unit), and its label names (none by default). */
const histogram = <const L extends string = never>(name: string, help: string, buckets: Array<number>, labelNames: ReadonlyArray<L> = []) =>
  new Histogram<L>({ name, help, buckets, labelNames, registers })

export const agentsByState = gauge("switchyard_agents", "Agents (not deleted) by state path of the agent machine, from the read model at scrape time.", ["state"])

export const gatewayRpcDuration = histogram(
  "switchyard_gateway_rpc_duration_seconds",
  "Gateway RPC latency as the caller sees it (timeouts included), by method and outcome (ok or error).",
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  ["method", "outcome"]
)

export const gatewayRpcErrors = counter(
  "switchyard_gateway_rpc_errors_total",
  "Failed gateway RPCs by method and code: the gateway's error code (e.g. UNAVAILABLE, INVALID_REQUEST), or TIMEOUT, CONNECTION_<reason>, PROTOCOL, NOT_PAIRED.",
  ["method", "code"]
)

export const gatewayReconnects = counter(
  "switchyard_gateway_reconnects_total",
  "Gateway sockets re-established after a lost connection (a restart, a policy change, a network drop), by gateway.",
  ["gateway_id"]
)

export const configPatches = counter("switchyard_gateway_config_patches_total", "config.patch writes sent to gateways by the agent config batcher (one per batch).")

export const configPatchEntries = histogram("switchyard_gateway_config_patch_entries", "Agent entries carried by one config.patch (how well writes are batched).", [1, 2, 5, 10, 20, 50, 100, 250])

export const eventToPersist = histogram(
  "switchyard_agent_event_persist_seconds",
  "From an event moving an agent actor to the resulting snapshot being saved in Postgres.",
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15]
)

export const groupCommitWrites = histogram(
  "switchyard_group_commit_writes",
  "Agent snapshot writes per group commit batch (one transaction; docs/architecture.md §6.5).",
  [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000]
)

export const groupCommitDuration = histogram(
  "switchyard_group_commit_seconds",
  "From a group commit batch taken from the queue to its transaction committed (or failed), retries write by write included.",
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15]
)

export const groupCommitLaneStarts = counter(
  "switchyard_group_commit_lane_starts_total",
  "Group commit batches started, by reason: idle (no batch in flight) or stalled (beside a batch that has stalled; docs/architecture.md §6.5).",
  ["reason"]
)

export const groupCommitLanes = gauge("switchyard_group_commit_lanes_in_flight", "Group commit batches committing now (at most MAX_LANES, docs/architecture.md §6.5).", [])

export const heartbeatRuns = counter(
  "switchyard_llm_heartbeat_runs_total",
  "LLM heartbeat turns: runs the gateway marked as heartbeat runs (agent events with isHeartbeat), by gateway.",
  ["gateway_id"]
)

export const heartbeatTurnsPerAgentHour = gauge(
  "switchyard_llm_heartbeat_turns_per_agent_hour",
  "LLM heartbeat turns per agent-hour over the last hour (or since the watcher started), by gateway: the heartbeat budget (README \"Liveness\").",
  ["gateway_id"]
)

export const livenessRosterReads = counter(
  "switchyard_liveness_roster_reads_total",
  "Reads of our agents on a gateway by its liveness watcher (only when the store's fingerprint of them changed), by gateway and cause (reconcile: start and reconciliation; signal: a signal from an agent not in the roster).",
  ["gateway_id", "cause"]
)

export const gatewayReachable = gauge("switchyard_gateway_reachable", "1 while the gateway's liveness watcher reaches it, 0 while it does not.", ["gateway_id"])

export const agentActorFailures = counter(
  "switchyard_agent_actor_failures_total",
  "Agent actors XState stopped in status error (a throw in an action, guard or invoked actor), by outcome: restarted from the stored snapshot, given_up past the restart budget, or gateway_left while its gateway left the runner (docs/architecture.md §6.8).",
  ["outcome"]
)
