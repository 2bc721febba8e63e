import { Effect, Either, Option } from "effect"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import { describeGatewayError, type GatewayError } from "../gateway/GatewayError.ts"
import type { MethodResult } from "../gateway/protocol.ts"
import { withinBudget, type QueryBudget } from "./QueryBudget.ts"

/** One `sessions.list` row as the gateway sent it (docs/gateway-protocol.md §5; every field kept). */
export type GatewaySession = MethodResult<"sessions.list">["sessions"][number]

/** The label of the gateway-main agent's session, as Mission Control gives it (docs/operations.md §6.7). */
export const MAIN_SESSION_LABEL = "Gateway Agent"

export interface SessionListing {
  readonly sessions: ReadonlyArray<GatewaySession>
  /** The gateway-main agent's session row; null without a main agent, or when ensuring it failed. */
  readonly mainSession: GatewaySession | null
  /** Why the main session could not be ensured (secret-free); null otherwise. */
  readonly mainSessionError: string | null
}

const entryOf = (patched: MethodResult<"sessions.patch">): GatewaySession => {
  const entry = patched["entry"]
  return { ...(typeof entry === "object" && entry !== null ? entry : {}), key: patched.key }
}

/**
 * `sessions.list` (the gateway's first page, newest first), with the gateway-main agent's
 * session ensured: when `mainKey` is not listed, `sessions.patch {key, label:"Gateway Agent"}`
 * creates it and the list is read again (docs/operations.md §6.7). A
 * listed main session is not patched again, so a read does not write. Ensuring is best effort:
 * its failure is reported in `mainSessionError`, never as a failure of the listing.
 * Input: the answer's `budget`, which every call shares (`withinBudget`: transient refusals are
 * retried while it lasts). Errors: the `sessions.list` call's `GatewayError`.
 */
export const listSessions = Effect.fn("GatewayQueries.listSessions")(function* (
  target: GatewayTarget,
  mainKey: Option.Option<string>,
  budget: QueryBudget
) {
  const client = yield* GatewayClient
  const list = withinBudget(budget, "sessions.list", (timeoutMs) => client.call(target, "sessions.list", {}, { timeoutMs })).pipe(
    Effect.map((result) => result.sessions)
  )
  const sessions = yield* list
  if (Option.isNone(mainKey)) return { sessions, mainSession: null, mainSessionError: null } satisfies SessionListing
  const listed = sessions.find((session) => session.key === mainKey.value)
  if (listed !== undefined) return { sessions, mainSession: listed, mainSessionError: null } satisfies SessionListing
  const patched = yield* Effect.either(
    withinBudget(budget, "sessions.patch", (timeoutMs) => client.call(target, "sessions.patch", { key: mainKey.value, label: MAIN_SESSION_LABEL }, { timeoutMs }))
  )
  if (Either.isLeft(patched)) return { sessions, mainSession: null, mainSessionError: describeGatewayError(patched.left) } satisfies SessionListing
  const relisted = yield* Effect.orElseSucceed(list, () => sessions)
  const mainSession = relisted.find((session) => session.key === mainKey.value) ?? entryOf(patched.right)
  return { sessions: relisted, mainSession, mainSessionError: null } satisfies SessionListing
})

/**
 * The row of `key`, looked up with `sessions.list {search: key}` so a session beyond the first
 * page is found too (the real gateway matches `search` against keys; 2026.9.6), then matched
 * exactly. None when the gateway lists no such session. The call shares the answer's `budget`
 * (`withinBudget`).
 */
export const findSession = (target: GatewayTarget, key: string, budget: QueryBudget): Effect.Effect<Option.Option<GatewaySession>, GatewayError, GatewayClient> =>
  Effect.flatMap(GatewayClient, (client) => withinBudget(budget, "sessions.list", (timeoutMs) => client.call(target, "sessions.list", { search: key }, { timeoutMs }))).pipe(
    Effect.map((result) => Option.fromNullable(result.sessions.find((session) => session.key === key)))
  )
