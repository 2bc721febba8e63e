import type { AgentRole } from "../../machines/agent/agentTypes.ts"

/**
 * The deterministic naming contract with the gateway (docs/architecture.md §5.1): the gateway
 * agent id is `mc-<uuid>` for board agents, `lead-<board id>` for a board lead and
 * `mc-gateway-<gateway id>` for the gateway-main agent; the session key is
 * `agent:<gateway agent id>:main`.
 */
export const gatewayAgentIdFor = (role: AgentRole, ids: { agentId: string; boardId: string | null; gatewayId: string }): string => {
  switch (role) {
    case "main":
      return `mc-gateway-${ids.gatewayId}`
    case "lead":
      return `lead-${ids.boardId ?? ids.agentId}`
    case "worker":
      return `mc-${ids.agentId}`
  }
}

/** `agent:<gateway agent id>:main` (docs/architecture.md §5.1; docs/gateway-protocol.md §5 sessions.patch). */
export const sessionKeyFor = (gatewayAgentId: string): string => `agent:${gatewayAgentId}:main`

/** `<workspace_root>/workspace-<gateway agent id>` (docs/architecture.md §5.1). */
export const workspacePathFor = (workspaceRoot: string, gatewayAgentId: string): string =>
  `${workspaceRoot.replace(/\/+$/, "")}/workspace-${gatewayAgentId}`
