import type { InboxScope } from "../store/InboxRepo.ts"

/**
 * Whom an agent may message: the gateway-main agent every agent of its gateway, a board agent
 * the agents of its own board; never across boards, gateways or tenants, and never by a partial
 * name (docs/operations.md §6.16). An agent with neither reaches no one.
 */
export const inboxScopeOf = (agent: { readonly role: string; readonly boardId: string | null; readonly gatewayId: string }): InboxScope | undefined =>
  agent.role === "main" ? { kind: "gateway", gatewayId: agent.gatewayId } : agent.boardId === null ? undefined : { kind: "board", boardId: agent.boardId }
