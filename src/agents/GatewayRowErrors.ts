import { Data } from "effect"

/**
 * No gateway row with that id: it never existed or was deleted. One class for every context
 * (gateway administration, queries, template sync, the agents' programs; docs/operations.md
 * §6.12). To HTTP it is a 404 "gateway not found"; to an agent's actor a terminal step error
 * (`last_error.tag` "GatewayNotFound"): nothing on the gateway can be reached for the agent.
 */
export class GatewayNotFound extends Data.TaggedError("GatewayNotFound")<{ readonly gatewayId: string }> {
  override get message(): string {
    return `gateway ${this.gatewayId} no longer exists`
  }
}

/** The gateway is being deleted: its agents are being removed, nothing new may be created on it (HTTP 409). */
export class GatewayDeleting extends Data.TaggedError("GatewayDeleting")<{ readonly gatewayId: string }> {
  override get message(): string {
    return `gateway ${this.gatewayId} is being deleted`
  }
}
