import { HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { hashInboxKey } from "../inbox/inboxKey.ts"
import { AgentApiKeyRepo } from "../store/AgentApiKeyRepo.ts"
import { ApiError } from "./ApiError.ts"
import { authClient, authenticate } from "./auth.ts"
import { AuthFailureLimiter } from "./AuthFailureLimiter.ts"

/** Who calls an inbox route: the agent whose inbox key (`X-Api-Key`) it is, or the admin. */
export type InboxCaller = { readonly kind: "admin" } | { readonly kind: "inbox"; readonly agentId: string }

const HINT = "send the agent's inbox key as X-Api-Key (POST /api/v1/agents/{id}/api-key issues one)"

/**
 * An `X-Api-Key` is looked up by its sha256 in O(1) (a wrong one is 401, whatever else is sent,
 * and 429 once it or the address has failed too often: `AuthFailureLimiter`);
 * without one, the admin bearer is accepted and an agent token is 403: the inbox has its own
 * key. No credentials at all is 401.
 */
export const authenticateInbox = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const key = request.headers["x-api-key"]
  if (key !== undefined && key !== "") {
    const keyHash = hashInboxKey(key)
    const limiter = yield* AuthFailureLimiter
    const client = authClient(request, keyHash)
    yield* limiter.check(client)
    const agentId = yield* Effect.flatMap(AgentApiKeyRepo, (repo) => repo.findAgentId(keyHash))
    if (Option.isNone(agentId)) return yield* limiter.failed(client, new ApiError({ status: 401, detail: `invalid inbox key: ${HINT}` }))
    return { kind: "inbox", agentId: agentId.value } as InboxCaller
  }
  const caller = yield* authenticate.pipe(Effect.mapError((error) => (error._tag === "ApiError" && error.status === 401 ? new ApiError({ status: 401, detail: `missing credentials: ${HINT}` }) : error)))
  if (caller.kind === "admin") return { kind: "admin" } as InboxCaller
  return yield* new ApiError({ status: 403, detail: `an agent token does not open the inbox: ${HINT}` })
})

/** Only the agent itself, with its inbox key; returns its id. The admin has no inbox (403). */
export const requireInboxKey = Effect.flatMap(authenticateInbox, (caller) =>
  caller.kind === "inbox" ? Effect.succeed(caller.agentId) : Effect.fail(new ApiError({ status: 403, detail: `this is the agent's own inbox: ${HINT}` }))
)
