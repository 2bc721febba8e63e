import type { z } from "zod"
import type { ZodOpenApiOperationObject, ZodOpenApiRequestBodyObject, ZodOpenApiResponseObject } from "zod-openapi"
import { type FailureCode, withFailures } from "./operations.ts"
export { withFailures }

/**
 * Building blocks of operations: who may call (tags and security) and the shared error
 * answers. Agents filter operations by their role tag (docs/operations.md §6.2,
 * docs/architecture.md §7.4), so every operation an agent may call carries `agent-main`, `agent-lead` and/or
 * `agent-worker`, plus `x-llm-intent` and `x-when-to-use`; admin operations carry `admin`
 * and the resource they act on.
 */
export type ResourceTag = "gateways" | "boards" | "tasks" | "agents" | "template-sync" | "activity" | "messages" | "system"
export type RoleTag = "agent-main" | "agent-lead" | "agent-worker"

export const ALL_AGENTS: ReadonlyArray<RoleTag> = ["agent-main", "agent-lead", "agent-worker"]

export const json = (schema: z.ZodType): ZodOpenApiRequestBodyObject => ({ required: true, content: { "application/json": { schema } } })

/** A JSON body that may be left out (`{}` is assumed). */
export const optionalJson = (schema: z.ZodType): ZodOpenApiRequestBodyObject => ({ required: false, content: { "application/json": { schema } } })

export const answer = (description: string, schema: z.ZodType): ZodOpenApiResponseObject => ({
  description,
  content: { "application/json": { schema } }
})

export interface OperationSpec extends Omit<ZodOpenApiOperationObject, "tags" | "security" | "operationId" | "summary"> {
  readonly operationId: string
  readonly summary: string
  /** Error answers besides the ones every authenticated call may give (401, 403, 422, 429, 503). */
  readonly failures?: ReadonlyArray<FailureCode>
}

const base = ({ failures: _failures, ...spec }: OperationSpec) => spec

/** An operation only the admin may call (`Authorization: Bearer <admin token>`). */
export const adminOperation = (resource: ResourceTag, spec: OperationSpec): ZodOpenApiOperationObject => ({
  ...base(spec),
  tags: ["admin", resource],
  security: [{ adminBearer: [] }],
  responses: withFailures(spec.responses, [401, 403, 422, 429, 503, ...(spec.failures ?? [])])
})

export interface AgentOperationSpec extends OperationSpec {
  /** What the call does, in one line an agent can match its intent against (`x-llm-intent`). */
  readonly intent: string
  /** When to make the call (`x-when-to-use`). */
  readonly whenToUse: ReadonlyArray<string>
  /** The admin may call it too, on this resource. */
  readonly admin?: ResourceTag
}

/**
 * An operation agents call with their own token (`X-Agent-Token`, or a bearer that is not the
 * admin token), tagged with the roles that may use it.
 */
export const agentOperation = (roles: ReadonlyArray<RoleTag>, spec: AgentOperationSpec): ZodOpenApiOperationObject => {
  const { intent, whenToUse, admin, ...rest } = spec
  return {
    ...base(rest),
    tags: [...roles, ...(admin === undefined ? [] : ["admin", admin])],
    security: [{ agentToken: [] }, { agentBearer: [] }, ...(admin === undefined ? [] : [{ adminBearer: [] }])],
    "x-llm-intent": intent,
    "x-when-to-use": [...whenToUse],
    responses: withFailures(spec.responses, [401, 403, 422, 429, 503, ...(spec.failures ?? [])])
  }
}

/** An operation anyone may call (health, docs, metrics). */
export const publicOperation = (spec: OperationSpec): ZodOpenApiOperationObject => ({
  ...base(spec),
  tags: ["system"],
  security: [],
  responses: withFailures(spec.responses, spec.failures ?? [])
})
