import type { HeartbeatConfig } from "../../machines/agent/agentTypes.ts"

/** The heartbeat an agent gets unless one is given: every 10 minutes, to no channel (docs/operations.md §6.2). */
export const DEFAULT_HEARTBEAT = { every: "10m", target: "none" } as const satisfies HeartbeatConfig
