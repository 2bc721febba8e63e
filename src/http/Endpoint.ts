import type { HttpServerResponse } from "@effect/platform"
import type { Effect } from "effect"
import type { z } from "zod"
import type { Caller } from "./auth.ts"
import { IdParams } from "./contract.ts"
import type { InboxCaller } from "./inboxAuth.ts"
import type { KnownError } from "./respond.ts"

/** The resource an admin operation acts on (its second OpenAPI tag). */
export type ResourceTag = "gateways" | "boards" | "tasks" | "agents" | "template-sync" | "activity" | "messages" | "system"

/** The role tags agents filter operations by (docs/operations.md §6.2). */
export type RoleTag = "agent-main" | "agent-lead" | "agent-worker"

export const ALL_AGENTS: ReadonlyArray<RoleTag> = ["agent-main", "agent-lead", "agent-worker"]

/** The error answers an entry may list (their shapes are in `openapi/operations.ts`). */
export type FailureCode = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 502 | 503

/**
 * One endpoint, declared once (docs/architecture.md §7): method, path, the zod schemas of its
 * input, its answers, who may call it and its error answers. The router, request decoding, role
 * checks, the OpenAPI operation and the handler's types all come from it. A context declares
 * its entries in `<context>/http/<context>Api.ts` and binds handlers to them by name in
 * `<context>Http.ts` (`serve`); the entry's name is its `operationId`.
 */
export interface EndpointSpec {
  readonly method: "get" | "post" | "put" | "patch" | "delete"
  /** OpenAPI spelling: `/api/v1/agents/{id}`. */
  readonly path: `/${string}`
  readonly summary: string
  readonly description?: string
  readonly access: Access
  readonly params?: z.ZodObject
  readonly query?: z.ZodObject
  /** Request headers the handler reads (lower-case names), decoded like the rest: a bad value is a 422. */
  readonly headers?: z.ZodObject
  readonly body?: z.ZodType
  /** The body may be left out (`{}` is assumed). */
  readonly bodyOptional?: true
  readonly responses: Readonly<Record<number, JsonAnswer | RawAnswer>>
  /** Error answers besides the ones the access gives (401, 403, 422, 429, 503 once authenticated). */
  readonly failures?: ReadonlyArray<FailureCode>
  /**
   * Not written to the request log: `true`, never (e.g. `/metrics`, scraped every few seconds);
   * `"when-ok"`, not when answered below 400 (a heartbeat: thousands a second, each already
   * recorded as the agent's beat; docs/operations.md §3.3), while a refusal still is.
   */
  readonly unlogged?: true | "when-ok"
}

/** Hints an agent matches its intent against (`x-llm-intent`, `x-when-to-use`). */
export interface AgentHints {
  readonly intent: string
  readonly whenToUse: ReadonlyArray<string>
}

/**
 * Who may call:
 * - `public`: anyone;
 * - `admin`: `Authorization: Bearer <admin token>`, tagged with the resource;
 * - `agents` / `agentsOrAdmin`: an agent of one of `roles` with its own token (`denied` is the 403
 *   for another role), and for the latter the admin too. `checkedBy: "context"`: the context
 *   checks the role itself, with the finer rule it states (the lead *of this board*), so its
 *   refusal can name the board;
 * - `inbox` / `inboxOrAdmin`: the agent's inbox key (`X-Api-Key`), and for the latter the admin too.
 */
export type Access =
  | { readonly kind: "public" }
  | { readonly kind: "admin"; readonly resource: ResourceTag }
  | ({ readonly kind: "agents"; readonly roles: ReadonlyArray<RoleTag>; readonly denied?: string; readonly checkedBy?: "context" } & AgentHints)
  | ({ readonly kind: "agentsOrAdmin"; readonly roles: ReadonlyArray<RoleTag>; readonly denied?: string; readonly resource: ResourceTag } & AgentHints)
  | ({ readonly kind: "inbox" } & AgentHints)
  | ({ readonly kind: "inboxOrAdmin"; readonly resource: ResourceTag } & AgentHints)

/** A JSON answer with its schema. */
export interface JsonAnswer<S extends z.ZodType = z.ZodType> {
  readonly description: string
  readonly schema: S
  /** Response headers worth documenting (e.g. `Location`). */
  readonly headers?: z.ZodObject
}

/** A non-JSON answer (a page, a script, a text format, an event stream): the handler builds the response itself. */
export interface RawAnswer {
  readonly description: string
  readonly contentType: string
  readonly schema: z.ZodType
}

export const answer = <S extends z.ZodType>(description: string, schema: S, headers?: z.ZodObject): JsonAnswer<S> =>
  headers === undefined ? { description, schema } : { description, schema, headers }

export const raw = (description: string, contentType: string, schema: z.ZodType): RawAnswer => ({ description, contentType, schema })

/** What an entry adds to an `adminGet` or `getById` besides its answer. */
type More = Pick<EndpointSpec, "description" | "query" | "failures">

/** What `adminGet` declares before its `more`. */
interface AdminGet<P extends `/${string}`, S extends z.ZodType> {
  readonly method: "get"
  readonly path: P
  readonly access: { readonly kind: "admin"; readonly resource: ResourceTag }
  readonly summary: string
  readonly responses: { readonly 200: JsonAnswer<S> }
}

/**
 * An admin `GET` answering 200 with `ok` (docs/architecture.md §7.5); `more` adds what the entry
 * has besides: a description, a query, its failures.
 */
export const adminGet = <const P extends `/${string}`, S extends z.ZodType, const M extends More = {}>(
  path: P,
  resource: ResourceTag,
  summary: string,
  ok: JsonAnswer<S>,
  more?: M
): AdminGet<P, S> & NoInfer<M> => ({ method: "get", path, access: { kind: "admin", resource }, summary, responses: { 200: ok }, ...more }) as AdminGet<P, S> & M

/**
 * An `adminGet` of one resource named by the `{id}` in its path (`IdParams`), 404 when there
 * is none; `more.failures` replaces `[404]`.
 */
export const getById = <const P extends `/${string}`, S extends z.ZodType, const M extends More = {}>(
  path: P,
  resource: ResourceTag,
  summary: string,
  ok: JsonAnswer<S>,
  more?: M
): AdminGet<P, S> & { readonly params: typeof IdParams; readonly failures: ReadonlyArray<FailureCode> } & NoInfer<M> =>
  adminGet(path, resource, summary, ok, { params: IdParams, failures: [404], ...more }) as AdminGet<P, S> & { readonly params: typeof IdParams; readonly failures: ReadonlyArray<FailureCode> } & M

/** An answer of a handler: a status its entry declares, with a body of that status's schema. */
export interface Reply<S extends number = number, B = unknown> {
  readonly _tag: "Reply"
  readonly status: S
  readonly body: B
  readonly headers?: Readonly<Record<string, string>>
}

export const reply = <const S extends number, B>(status: S, body: B, headers?: Readonly<Record<string, string>>): Reply<S, B> =>
  headers === undefined ? { _tag: "Reply", status, body } : { _tag: "Reply", status, body, headers }

/** The agent calling an agent-only endpoint. */
export interface AgentCaller {
  readonly kind: "agent"
  readonly agentId: string
}

type Decoded<E, K extends string> = E extends { readonly [P in K]: infer S extends z.ZodType } ? z.output<S> : undefined

type CallerOf<A extends Access> = A extends { readonly kind: "public" }
  ? undefined
  : A extends { readonly kind: "admin" }
    ? { readonly kind: "admin" }
    : A extends { readonly kind: "agents" }
      ? AgentCaller
      : A extends { readonly kind: "agentsOrAdmin" }
        ? Caller
        : A extends { readonly kind: "inbox" }
          ? { readonly kind: "inbox"; readonly agentId: string }
          : InboxCaller

/** What a handler is given: the decoded input and the authenticated caller. */
export interface Input<E extends EndpointSpec> {
  readonly params: Decoded<E, "params">
  readonly query: Decoded<E, "query">
  readonly headers: Decoded<E, "headers">
  readonly body: Decoded<E, "body">
  readonly caller: CallerOf<E["access"]>
}

type Wire<T> = T extends ReadonlyArray<infer U> ? ReadonlyArray<Wire<U>> : T extends object ? { readonly [K in keyof T]: Wire<T[K]> } : T

/** What a handler or mapper may answer for `schema`: its input type, read-only all the way down. */
export type Shape<S extends z.ZodType> = Wire<z.input<S>>

type Answers<R> = { [S in keyof R & number]: R[S] extends JsonAnswer<infer Schema> ? Reply<S, Shape<Schema>> : never }[keyof R & number]

/** A JSON entry's handler returns one of its declared replies; an entry with a raw answer returns the response itself. */
export type Result<E extends EndpointSpec> = [Extract<E["responses"][keyof E["responses"]], RawAnswer>] extends [never] ? Answers<E["responses"]> : HttpServerResponse.HttpServerResponse

/** A handler bound to entry `E`; it fails only with errors the one mapper turns into answers (`respond.ts`). */
export type Handler<E extends EndpointSpec, R = never> = (input: Input<E>) => Effect.Effect<Result<E>, KnownError, R>

/** Declares a table of entries, keeping their literal types (so handlers are checked against them). */
export const endpoints = <const Api extends Readonly<Record<string, EndpointSpec>>>(api: Api): Api => api
