import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import type { AppConfigShape } from "../config/AppConfig.ts"

/** The liveness limits of the agent policy, from config (docs/operations.md §8). */
export const livenessPolicy = (
  config: Pick<AppConfigShape, "gatewayLostAfterMs" | "offlineFactor" | "offlineGraceMs" | "maxFailedRuns">
): Required<Pick<AgentPolicy, "offlineFactor" | "offlineGraceMs" | "gatewayLostAfterMs" | "maxFailedRuns">> => ({
  offlineFactor: config.offlineFactor,
  offlineGraceMs: config.offlineGraceMs,
  gatewayLostAfterMs: config.gatewayLostAfterMs,
  maxFailedRuns: config.maxFailedRuns
})
