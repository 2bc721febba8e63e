import { Data } from "effect"

/**
 * Why a create or an adoption of an agent was refused; nothing was written
 * (docs/operations.md §6.2). HTTP: `board_missing`, `no_such_gateway_agent` and
 * `not_adoptable` (the gateway's default agent) 422, and 409 for
 * `name_taken`, `lead_exists`, `board_full`, `already_managed`.
 */
export class AgentCreationRefused extends Data.TaggedError("AgentCreationRefused")<{
  readonly reason:
    | "name_taken"
    | "lead_exists"
    | "board_full"
    | "board_missing"
    | "no_such_gateway_agent"
    | "not_adoptable"
    | "already_managed"
  readonly detail: string
}> {}

/** The HTTP status of each refusal (the one mapper, src/http/respond.ts, reads it). */
export const CREATION_REFUSED_STATUS = {
  board_missing: 422,
  no_such_gateway_agent: 422,
  not_adoptable: 422,
  name_taken: 409,
  lead_exists: 409,
  board_full: 409,
  already_managed: 409
} as const satisfies Record<AgentCreationRefused["reason"], number>
