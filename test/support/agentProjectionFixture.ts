import type { AgentProjection } from "../../src/agents/agentProjection.ts"

/** A worker's read-model projection, provisioning and never seen, with `overrides` applied; for repository tests. */
export const agentProjectionFixture = (overrides: Partial<AgentProjection> = {}): AgentProjection => ({
  role: "worker",
  boardId: null,
  gatewayAgentId: "mc-unset",
  sessionKey: "agent:mc-unset:main",
  status: "provisioning",
  statePath: "provisioning.applying",
  name: "Ada",
  lastSeenAt: null,
  lastError: null,
  offlineReason: null,
  tokenHash: null,
  heartbeatConfig: { every: "10m", target: "none" },
  identityProfile: null,
  identityTemplate: null,
  soulTemplate: null,
  ...overrides
})
