import { Data } from "effect"

/** The agent's gateway row is gone; nothing on the gateway can be reached for it (terminal). */
export class AgentGatewayMissing extends Data.TaggedError("AgentGatewayMissing")<{
  readonly gatewayId: string
  readonly message: string
}> {}
