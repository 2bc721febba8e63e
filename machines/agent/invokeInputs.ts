import type { AgentContext, ApplyInput, RemoveInput } from "./agentTypes.ts"

/** The input of the `applyAgent` invoke: who the agent is, what it should be, and how to apply. */
export const applyInput = ({ context }: { context: AgentContext }): ApplyInput => ({
  agentId: context.agentId,
  gatewayId: context.gatewayId,
  boardId: context.boardId,
  role: context.role,
  gatewayAgentId: context.gatewayAgentId,
  sessionKey: context.sessionKey,
  spec: context.spec,
  request: context.request,
  generation: context.generation,
  workspaceSeeded: context.workspaceSeeded,
  tokenHash: context.tokenHash,
  retired: context.retired ?? null,
  adoption: context.adoption ?? null
})

/** The agent's fixed gateway identity, as every side-effect actor receives it. */
export const identityOf = (context: AgentContext): RemoveInput => ({
  agentId: context.agentId,
  gatewayId: context.gatewayId,
  boardId: context.boardId,
  role: context.role,
  gatewayAgentId: context.gatewayAgentId,
  sessionKey: context.sessionKey
})

