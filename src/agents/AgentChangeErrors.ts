import { Data } from "effect"

/**
 * A field of a requested change that cannot be applied as given: it names nothing that exists,
 * something elsewhere, or is missing where the change needs it. Bad input, so it changes nothing
 * (HTTP 422 `"<field>: <problem>"`, docs/operations.md §6.12).
 */
export class FieldInvalid extends Data.TaggedError("FieldInvalid")<{ readonly field: string; readonly problem: string }> {
  override get message(): string {
    return `${this.field}: ${this.problem}`
  }
}

/** The gateway already has its one gateway-main agent, `mainId` (HTTP 409; docs/operations.md §6.2). */
export class MainAgentTaken extends Data.TaggedError("MainAgentTaken")<{ readonly gatewayId: string; readonly mainId: string }> {
  override get message(): string {
    return `gateway ${this.gatewayId} already has a main agent (${this.mainId}); convert it to a board agent first`
  }
}

/**
 * A change that collides with another agent: the new name is taken on the gateway, or a
 * concurrent change took the name or the gateway's main slot first. Nothing was changed
 * (HTTP 409; docs/operations.md §6.2).
 */
export class AgentChangeConflict extends Data.TaggedError("AgentChangeConflict")<{ readonly detail: string }> {
  override get message(): string {
    return this.detail
  }
}
