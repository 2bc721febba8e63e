import { z } from "zod"
import type { AgentLiveness } from "../../agents/agentProjection.ts"
import type { Shape } from "../../http/Endpoint.ts"
import type { GatewayLivenessStatus } from "../GatewayLiveness.ts"
import { time } from "../../http/timestamps.ts"

const iso = (at: number | null | undefined) => (at === null || at === undefined ? null : new Date(at).toISOString())

/**
 * An agent's liveness as the API shows it (docs/operations.md §8): what the gateway's own
 * signals say, each instant in ISO 8601, the silence limit in ms. Null for an agent not saved
 * since liveness existed.
 */
export const livenessView = (liveness: AgentLiveness | null | undefined): Shape<typeof AgentLivenessView> =>
  liveness === null || liveness === undefined
    ? null
    : {
        last_activity_at: iso(liveness.lastActivityAt),
        last_activity_source: liveness.lastActivitySource,
        last_run:
          liveness.lastRun === null
            ? null
            : {
                run_id: liveness.lastRun.runId,
                heartbeat: liveness.lastRun.heartbeat,
                started_at: iso(liveness.lastRun.startedAt),
                ended_at: iso(liveness.lastRun.endedAt),
                outcome: liveness.lastRun.outcome,
                error: liveness.lastRun.error
              },
        failed_runs: liveness.failedRuns,
        effective_heartbeat:
          liveness.heartbeat === null
            ? null
            : { enabled: liveness.heartbeat.enabled, every: liveness.heartbeat.every, every_ms: liveness.heartbeat.everyMs, read_at: iso(liveness.heartbeat.at) },
        heartbeat_mismatch: liveness.heartbeatMismatch,
        gateway_reachable: liveness.gatewayReachable,
        gateway_lost_at: iso(liveness.gatewayLostAt),
        missing_on_gateway: liveness.missingSince !== null,
        missing_since: iso(liveness.missingSince),
        offline_cause: liveness.offlineCause,
        silence_limit_ms: liveness.silenceLimitMs
      }

/** The agent view's `liveness` (`livenessView` is typed against it). */
export const AgentLivenessView = z
  .object({
    last_activity_at: time.nullable().meta({ description: "Last sign of work: a run, a session change, a heartbeat run or a curl-back." }),
    last_activity_source: z.string().nullable().meta({ description: "Where it came from: agent, sessions.changed, heartbeat, curl-back …", example: "sessions.changed" }),
    last_run: z
      .object({
        run_id: z.string(),
        heartbeat: z.boolean().meta({ description: "Marked by the gateway as a heartbeat run (an LLM heartbeat turn)." }),
        started_at: time.nullable(),
        ended_at: time.nullable(),
        outcome: z.enum(["running", "ok", "error", "aborted"]),
        error: z.string().nullable().meta({ description: "Why a failed run failed, as the gateway said it." })
      })
      .nullable(),
    failed_runs: z.int().meta({ description: "Runs that failed in a row." }),
    effective_heartbeat: z
      .object({ enabled: z.boolean(), every: z.string(), every_ms: z.int().nullable(), read_at: time.nullable() })
      .nullable()
      .meta({ description: "The heartbeat the gateway runs for the agent, as `health` reported it." }),
    heartbeat_mismatch: z.string().nullable().meta({ description: "How the effective heartbeat differs from the one we set." }),
    gateway_reachable: z.boolean(),
    gateway_lost_at: time.nullable(),
    missing_on_gateway: z.boolean().meta({ description: "Absent from the gateway's agents.list; POST /api/v1/agents/{id}/retry re-provisions it." }),
    missing_since: time.nullable(),
    offline_cause: z
      .enum(["silent", "gateway_unreachable", "gateway_missing", "heartbeat_mismatch", "runs_failing", "no_checkin", "never_seen", "removed"])
      .nullable(),
    silence_limit_ms: z.int().meta({ description: "Silence after which an agent that should heartbeat is offline: max(floor, 1.5 × everyMs + grace)." })
  })
  .nullable()
  .meta({ id: "AgentLiveness", description: "What the gateway's own signals say of the agent (docs/operations.md §8)." })

/** A gateway's liveness status as the API shows it (`GET /api/v1/gateways/{id}/liveness`). */
export const gatewayLivenessView = (status: GatewayLivenessStatus): Shape<typeof GatewayLivenessView> => ({
  gateway_id: status.gatewayId,
  reachable: status.reachable,
  since: iso(status.since),
  server_version: status.serverVersion,
  degraded: status.degraded,
  orphans: status.orphans,
  missing_agent_ids: status.missing,
  last_reconciled_at: iso(status.lastReconciledAt),
  heartbeat_turns_per_agent_hour: status.heartbeatTurnsPerAgentHour
})

/** `GET /api/v1/gateways/{id}/liveness` (`gatewayLivenessView` is typed against it). */
export const GatewayLivenessView = z
  .object({
    gateway_id: z.uuid(),
    reachable: z.boolean().nullable().meta({ description: "Null until the watcher's first probe." }),
    since: time.nullable(),
    server_version: z.string().nullable(),
    degraded: z.array(z.string()).meta({ description: "Signals this gateway cannot give (a method or event its hello-ok lacks), with what it costs." }),
    orphans: z.array(z.string()).meta({ description: "Gateway agents with our id prefix that none of our agents is." }),
    missing_agent_ids: z.array(z.uuid()).meta({ description: "Our agents missing from its agents.list at the last reconciliation." }),
    last_reconciled_at: time.nullable(),
    heartbeat_turns_per_agent_hour: z.number().nullable().meta({ description: "LLM heartbeat turns per agent-hour over the last hour (the heartbeat budget)." })
  })
  .meta({ id: "GatewayLiveness", description: "What the gateway's liveness watcher knows (docs/operations.md §8)." })
