import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { LIVENESS_DEFAULTS } from "../../machines/agent/liveness.ts"
import type { AppConfigShape } from "../config/AppConfig.ts"

/** The liveness limits of the agent policy, from config (docs/operations.md §6.9); the factor is fixed at 1.5. */
export const livenessPolicy = (
  config: Pick<AppConfigShape, "gatewayLostAfterMs" | "offlineGraceMs" | "maxFailedRuns">
): Required<Pick<AgentPolicy, "offlineFactor" | "offlineGraceMs" | "gatewayLostAfterMs" | "maxFailedRuns">> => ({
  offlineFactor: LIVENESS_DEFAULTS.offlineFactor,
  offlineGraceMs: config.offlineGraceMs,
  gatewayLostAfterMs: config.gatewayLostAfterMs,
  maxFailedRuns: config.maxFailedRuns
})
