import { HttpMiddleware, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Option } from "effect"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { AgentRepo } from "../store/AgentRepo.ts"
import { ApiError } from "./ApiError.ts"
import { authenticate, type Caller, requireAdmin, requireAgent } from "./auth.ts"
import { decodeBody, decodeHeaders, decodeParams, decodeQuery } from "./decode.ts"
import { ALL_AGENTS, type Access, type EndpointSpec, type Handler, type Reply } from "./Endpoint.ts"
import { authenticateInbox, requireInboxKey } from "./inboxAuth.ts"
import { operationOf } from "./openapi/operations.ts"
import { handle, type KnownError } from "./respond.ts"

const ADMIN = { kind: "admin" } as const

type RoleAccess = { readonly roles: ReadonlyArray<string>; readonly denied?: string; readonly checkedBy?: "context" }

/** An entry with no role to check here: open to every agent role, or checked by its context. */
const roleUnchecked = (access: RoleAccess) => access.checkedBy === "context" || ALL_AGENTS.every((role) => access.roles.includes(role))

/** A restricted entry checks the calling agent's role (one read of its row); an entry open to every role does not. */
const checkRole = (access: RoleAccess, agentId: string) =>
  roleUnchecked(access)
    ? Effect.void
    : Effect.flatMap(AgentRepo, (repo) => repo.get(agentId)).pipe(
        Effect.flatMap((row) => {
          if (Option.isNone(row)) return Effect.fail(new ApiError({ status: 403, detail: "this agent no longer exists" }))
          if (access.roles.includes(`agent-${row.value.role}`)) return Effect.void
          return Effect.fail(new ApiError({ status: 403, detail: access.denied ?? `only ${access.roles.map((role) => role.slice(6)).join(" or ")} agents may do this; this agent is a ${row.value.role}` }))
        })
      )

const agentCaller = Effect.flatMap(authenticate, (caller) => (caller.kind === "agent" ? Effect.succeed(caller) : Effect.fail(new ApiError({ status: 403, detail: "agent token required" }))))

/** The caller an entry's access admits: 401 without credentials, 403 with the wrong ones (or an agent of another role). */
const callerFor = (access: Access): Effect.Effect<unknown, KnownError, Effect.Effect.Context<typeof authenticate | typeof authenticateInbox>> => {
  switch (access.kind) {
    case "public":
      return Effect.succeed(undefined)
    case "admin":
      return Effect.as(requireAdmin, ADMIN)
    case "agents":
      // Open to every role (a heartbeat): the authenticated agent is the caller, no role read.
      if (roleUnchecked(access)) return agentCaller
      return Effect.flatMap(requireAgent, (agentId) => Effect.as(checkRole(access, agentId), { kind: "agent" as const, agentId }))
    case "agentsOrAdmin":
      return Effect.flatMap(authenticate, (caller): Effect.Effect<Caller, KnownError, AgentRepo> => (caller.kind === "admin" ? Effect.succeed(caller) : Effect.as(checkRole(access, caller.agentId), caller)))
    case "inbox":
      return Effect.map(requireInboxKey, (agentId) => ({ kind: "inbox" as const, agentId }))
    case "inboxOrAdmin":
      return authenticateInbox
  }
}

const isReply = (value: unknown): value is Reply => typeof value === "object" && value !== null && (value as { _tag?: unknown })._tag === "Reply"

/**
 * A handler's result as the response: a `Reply` is its JSON as a string body (`application/json`,
 * its byte length), which Node sends with the head in one write, where a `Uint8Array` body (what
 * `unsafeJson` makes) costs an encoding copy and a second buffer per answer.
 */
export const toResponse = (result: Reply | HttpServerResponse.HttpServerResponse) => {
  if (!isReply(result)) return result
  const text = JSON.stringify(result.body)
  return HttpServerResponse.raw(text, { status: result.status, headers: result.headers ?? {}, contentType: "application/json", contentLength: Buffer.byteLength(text, "utf8") })
}

/** The router path of an OpenAPI path: `{id}` → `:id`. */
const routerPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1") as HttpRouter.PathInput

/** One entry served: the caller checked, then path, query, headers and body decoded (422/413), the handler run, its failures answered. */
type AnyHandler = (input: unknown) => Effect.Effect<Reply | HttpServerResponse.HttpServerResponse, KnownError, never>

const route = (spec: EndpointSpec, handler: AnyHandler) => {
  // Built once per entry, not per request.
  const callerOf = callerFor(spec.access)
  const paramsOf = spec.params === undefined ? undefined : decodeParams(spec.params)
  const queryOf = spec.query === undefined ? undefined : decodeQuery(spec.query)
  const headersOf = spec.headers === undefined ? undefined : decodeHeaders(spec.headers)
  const bodyOf = spec.body === undefined ? undefined : decodeBody(spec.body)
  const served = handle(
    Effect.gen(function* () {
      const caller = yield* callerOf
      const params = paramsOf === undefined ? undefined : yield* paramsOf
      const query = queryOf === undefined ? undefined : yield* queryOf
      const headers = headersOf === undefined ? undefined : yield* headersOf
      const body = bodyOf === undefined ? undefined : yield* bodyOf
      return toResponse(yield* handler({ caller, params, query, headers, body }))
    })
  )
  if (spec.unlogged === true) return HttpMiddleware.withLoggerDisabled(served)
  if (spec.unlogged === "when-ok") return Effect.flatMap(served, (response) => (response.status < 400 ? HttpMiddleware.withLoggerDisabled(Effect.succeed(response)) : Effect.succeed(response)))
  return served
}

type Provided = HttpRouter.RouteContext | HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams
type KernelContext = Effect.Effect.Context<ReturnType<typeof callerFor>>
type ContextOf<H> = { [K in keyof H]: H[K] extends (...args: ReadonlyArray<never>) => Effect.Effect<unknown, unknown, infer R> ? R : never }[keyof H]

/**
 * `METHOD /path` of every entry served with neither path parameters nor a query: its handler
 * reads no route context, so the kernel may answer it by its exact path without the router
 * (`HttpApp.ts`). Filled as the tables are served, at start.
 */
export const exactEntries = new Set<string>()

/**
 * The router of a table: each entry of `api` bound by name to its handler in `handlers` (a
 * missing or extra handler, or one answering a shape or status its entry does not declare, fails
 * to compile).
 */
export const serve = <const Api extends Readonly<Record<string, EndpointSpec>>, H extends { readonly [K in keyof Api]: Handler<Api[K], unknown> }>(
  api: Api,
  handlers: H
): HttpRouter.HttpRouter<never, Exclude<ContextOf<H> | KernelContext, Provided>> =>
  Object.entries(api).reduce<HttpRouter.HttpRouter<never, never>>((router, [name, spec]) => {
    if (spec.params === undefined && spec.query === undefined && !spec.path.includes("{")) exactEntries.add(`${METHODS[spec.method]} ${spec.path}`)
    return HttpRouter.route(METHODS[spec.method])(routerPath(spec.path), route(spec, handlers[name] as unknown as AnyHandler))(router) as HttpRouter.HttpRouter<never, never>
  }, HttpRouter.empty) as never

const METHODS = { get: "GET", post: "POST", put: "PUT", patch: "PATCH", delete: "DELETE" } as const

/** The OpenAPI paths of tables: one operation per entry, its name the `operationId`. */
export const openApiPaths = (apis: ReadonlyArray<Readonly<Record<string, EndpointSpec>>>): ZodOpenApiPathsObject => {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const api of apis) for (const [name, spec] of Object.entries(api)) (paths[spec.path] ??= {})[spec.method] = operationOf(name, spec)
  return paths as ZodOpenApiPathsObject
}
