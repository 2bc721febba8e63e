import type { HeartbeatConfig } from "../../machines/agent/agentTypes.ts"

/**
 * The heartbeat an agent gets unless one is given: every hour, to no channel (docs/operations.md
 * §6.2). One LLM heartbeat turn per idle agent-hour: the gateway's own signals carry liveness
 * between them (README "Liveness", docs/operations.md §8).
 */
export const DEFAULT_HEARTBEAT = { every: "1h", target: "none" } as const satisfies HeartbeatConfig
