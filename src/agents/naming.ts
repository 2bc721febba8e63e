import type { AgentRole } from "../../machines/agent/agentTypes.ts"

/**
 * Mission Control's deterministic naming contract with the gateway (reference §2.2): the gateway
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

/** `agent:<gateway agent id>:main` (reference §2.2; gateway protocol §5 sessions.patch). */
export const sessionKeyFor = (gatewayAgentId: string): string => `agent:${gatewayAgentId}:main`

/** `<workspace_root>/workspace-<gateway agent id>` (reference §2.2). */
export const workspacePathFor = (workspaceRoot: string, gatewayAgentId: string): string =>
  `${workspaceRoot.replace(/\/+$/, "")}/workspace-${gatewayAgentId}`
