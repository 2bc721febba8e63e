import type { z } from "zod"
import type { ZodOpenApiOperationObject, ZodOpenApiResponseObject, ZodOpenApiResponsesObject } from "zod-openapi"
import type { EndpointSpec, FailureCode } from "../Endpoint.ts"
import { ErrorBody } from "./ErrorBody.ts"

/**
 * Building blocks of operations: who may call (tags and security) and the shared error
 * answers. Agents filter operations by their role tag (docs/operations.md §6.2,
 * docs/architecture.md §7.4), so every operation an agent may call carries `agent-main`, `agent-lead` and/or
 * `agent-worker`, plus `x-llm-intent` and `x-when-to-use`; admin operations carry `admin`
 * and the resource they act on.
 */

const failure = (id: string, description: string): ZodOpenApiResponseObject => ({ id, description, content: { "application/json": { schema: ErrorBody } } })

const FAILURES: Readonly<Record<FailureCode, ZodOpenApiResponseObject>> = {
  400: failure("BadRequest", "The request body could not be read."),
  401: failure("Unauthorized", "Missing or invalid credentials."),
  403: failure("Forbidden", "Authenticated, but not allowed to do this."),
  404: failure("NotFound", "No such resource."),
  409: failure("Conflict", "Conflicts with the current state (a name taken, a job running, a gateway being deleted, a board full)."),
  413: failure("TooLarge", "The request body is over 1 MiB; nothing was read past the limit."),
  422: failure("Invalid", "Bad input; nothing changed. `detail` says what is wrong, `errors` lists each invalid field."),
  429: failure("TooManyFailures", "Too many failed authentications for this credential or address; retry after `Retry-After` seconds with a valid one."),
  502: failure("GatewayUnreachable", "The gateway could not be reached."),
  503: failure("Unavailable", "Agent actors are still being restored, or the database has not saved the change yet; retry after `Retry-After` seconds.")
}

/** The operation's own answers win over the shared ones; listed in status order. A body that can be unreadable (400) can be too large (413). */
export const withFailures = (responses: ZodOpenApiResponsesObject, codes: ReadonlyArray<FailureCode>): ZodOpenApiResponsesObject => {
  const all: ReadonlyArray<FailureCode> = codes.includes(400) ? [...codes, 413] : codes
  const merged: ZodOpenApiResponsesObject = { ...Object.fromEntries(all.map((code) => [String(code), FAILURES[code]])), ...responses }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)))
}


const AUTHENTICATED: ReadonlyArray<FailureCode> = [401, 403, 422, 429, 503]
const AGENT_SECURITY = [{ agentToken: [] }, { agentBearer: [] }]

/** Tags, security and the `x-` hints of an entry's access. */
const accessOf = (access: EndpointSpec["access"]) => {
  switch (access.kind) {
    case "public":
      return { tags: ["system"], security: [] }
    case "admin":
      return { tags: ["admin", access.resource], security: [{ adminBearer: [] }] }
    case "agents":
      return { tags: [...access.roles], security: AGENT_SECURITY, "x-llm-intent": access.intent, "x-when-to-use": [...access.whenToUse] }
    case "agentsOrAdmin":
      return { tags: [...access.roles, "admin", access.resource], security: [...AGENT_SECURITY, { adminBearer: [] }], "x-llm-intent": access.intent, "x-when-to-use": [...access.whenToUse] }
    case "inbox":
      return { tags: ["inbox"], security: [{ inboxKey: [] }], "x-llm-intent": access.intent, "x-when-to-use": [...access.whenToUse] }
    case "inboxOrAdmin":
      return { tags: ["inbox", "admin", access.resource], security: [{ inboxKey: [] }, { adminBearer: [] }], "x-llm-intent": access.intent, "x-when-to-use": [...access.whenToUse] }
  }
}

/** The OpenAPI operation of the entry `operationId`: its input schemas, answers, tags and security, and the error answers its access and `failures` give. */
export const operationOf = (operationId: string, spec: EndpointSpec): ZodOpenApiOperationObject => {
  const requestParams = {
    ...(spec.params === undefined ? {} : { path: spec.params }),
    ...(spec.query === undefined ? {} : { query: spec.query }),
    ...(spec.headers === undefined ? {} : { header: spec.headers })
  }
  const responses: ZodOpenApiResponsesObject = Object.fromEntries(
    Object.entries(spec.responses).map(([code, answer]) => [
      code,
      {
        description: answer.description,
        ...("headers" in answer && answer.headers !== undefined ? { headers: answer.headers } : {}),
        content: { ["contentType" in answer ? answer.contentType : "application/json"]: { schema: answer.schema } }
      }
    ])
  )
  const shared = spec.access.kind === "public" ? [] : AUTHENTICATED
  return {
    operationId,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    ...(Object.keys(requestParams).length === 0 ? {} : { requestParams }),
    ...(spec.body === undefined ? {} : { requestBody: { required: spec.bodyOptional !== true, content: { "application/json": { schema: spec.body } } } }),
    ...accessOf(spec.access),
    responses: withFailures(responses, [...shared, ...(spec.failures ?? [])])
  }
}
