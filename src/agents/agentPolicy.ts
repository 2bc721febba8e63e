import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import type { AppConfigShape } from "../config/AppConfig.ts"
import { livenessPolicy } from "./livenessPolicy.ts"

/** The policy an agent actor is started with, read from config at each start (docs/operations.md §8). */
export const agentPolicy = (config: AppConfigShape): AgentPolicy => ({
  offlineAfterMs: config.offlineAfterMs,
  checkinTimeoutMs: config.checkinTimeoutMs,
  maxWakeAttempts: config.maxWakeAttempts,
  maxAttempts: config.maxAttempts,
  retryBaseMs: config.retryBaseMs,
  ...livenessPolicy(config)
})
