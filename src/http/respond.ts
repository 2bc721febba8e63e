import { HttpServerResponse } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { AgentChangeConflict, FieldInvalid, MainAgentTaken } from "../agents/AgentChangeErrors.ts"
import { type AgentCreationRefused, CREATION_REFUSED_STATUS } from "../agents/AgentCreationRefused.ts"
import type { AgentNotFound, AgentPersistTimeout, AgentsRestoring } from "../agents/AgentSystemErrors.ts"
import type { GatewayDeleting, GatewayNotFound } from "../agents/GatewayRowErrors.ts"
import type { CoordinationRefused, SoulReadFailed } from "../coordination/CoordinationErrors.ts"
import type { GatewayNameTaken } from "../fleet/GatewayAdmin.ts"
import type { GatewayQueryUnavailable, GatewayRequestRefused, GatewaySessionNotFound } from "../fleet/GatewayQueryErrors.ts"
import type { GatewayIncompatible, GatewayUnreachable } from "../fleet/probeGateway.ts"
import type { InboxContactNotFound, InboxMessageNotFound, InboxReportConflict } from "../inbox/InboxErrors.ts"
import type { IdempotencyConflict } from "../messages/IdempotencyConflict.ts"
import type { MessageNotFound, MessageTargetNotFound } from "../messages/MessageErrors.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"
import type { SyncBoardNotFound, SyncGatewayDeleting, SyncJobNotFound } from "../sync/SyncJobErrors.ts"
import type { ApiError } from "./ApiError.ts"

/** 503 with `Retry-After` (s). */
const retryLater = (detail: string, seconds: number) =>
  HttpServerResponse.unsafeJson({ detail }, { status: 503, headers: { "retry-after": String(seconds) } })

/** The domain errors a handler may leave to the mapper, by the answer they become. */
type DomainError =
  | AgentCreationRefused
  | FieldInvalid
  | AgentChangeConflict
  | MainAgentTaken
  | IdempotencyConflict
  | GatewayNotFound
  | GatewayNameTaken
  | GatewayDeleting
  | GatewayIncompatible
  | GatewayUnreachable
  | GatewaySessionNotFound
  | GatewayRequestRefused
  | GatewayQueryUnavailable
  | InboxMessageNotFound
  | InboxReportConflict
  | InboxContactNotFound
  | CoordinationRefused
  | SoulReadFailed
  | MessageTargetNotFound
  | MessageNotFound
  | SyncGatewayDeleting
  | SyncBoardNotFound
  | SyncJobNotFound

export type KnownError = ApiError | AgentNotFound | AgentsRestoring | AgentPersistTimeout | SqlError | DomainError

const WHERE = { board: "the agents of your board", gateway: "the agents of your gateway", none: "nobody: you are on no board" } as const
const COORDINATION_STATUS = { forbidden: 403, not_found: 404, invalid: 422, conflict: 409 } as const

/** A domain error's status and `detail` (never a secret). */
const domainAnswer = (error: DomainError): readonly [number, string] => {
  switch (error._tag) {
    case "AgentCreationRefused":
      return [CREATION_REFUSED_STATUS[error.reason], error.detail]
    case "GatewayNotFound":
      return [404, "gateway not found"]
    case "SyncGatewayDeleting":
      return [409, "the gateway is being deleted; nothing is synced to it"]
    case "SyncBoardNotFound":
      return [404, "board on this gateway not found"]
    case "SyncJobNotFound":
      return [404, "sync job not found"]
    case "GatewaySessionNotFound":
      return [404, "session not found"]
    case "GatewayNameTaken":
    case "GatewayDeleting":
    case "MainAgentTaken":
    case "AgentChangeConflict":
    case "IdempotencyConflict":
      return [409, error.message]
    case "FieldInvalid":
    case "GatewayIncompatible":
    case "GatewayRequestRefused":
      return [422, error.message]
    case "GatewayUnreachable":
    case "GatewayQueryUnavailable":
    case "SoulReadFailed":
      return [502, error.message]
    case "InboxMessageNotFound":
      return [404, `no message ${error.messageId} in your inbox`]
    case "InboxReportConflict":
      return [
        409,
        error.reason === "failed"
          ? `message ${error.messageId} was given up as failed and takes no report`
          : `message ${error.messageId} was already reported with a different result; the first result stands`
      ]
    case "InboxContactNotFound":
      return [404, `no agent named exactly "${error.name}" among your contacts (${WHERE[error.scope]}); see contacts in GET /api/gateway/poll`]
    case "CoordinationRefused":
      return [COORDINATION_STATUS[error.reason], error.detail]
    case "MessageTargetNotFound":
      return [404, error.message]
    case "MessageNotFound":
      return [404, "message not found"]
  }
}

/**
 * The one error→answer mapper (docs/operations.md §6.12): ApiError as given; a domain error by
 * its kind (`domainAnswer`: not found 404, conflict 409, refused 422, gateway down 502); a
 * missing actor 404; actors still restoring or a snapshot not yet saved 503 with `Retry-After`;
 * a unique violation 409; any other database failure (down, hung past its timeouts) 503 with
 * `Retry-After`. Nothing secret is echoed.
 */
export const handle = <R>(effect: Effect.Effect<HttpServerResponse.HttpServerResponse, KnownError, R>) =>
  effect.pipe(
    Effect.catchAll((error) => {
      switch (error._tag) {
        case "ApiError":
          return Effect.succeed(
            HttpServerResponse.unsafeJson({ detail: error.detail, ...(error.errors === undefined ? {} : { errors: error.errors }) }, { status: error.status, headers: error.headers ?? {} })
          )
        case "AgentNotFound":
          return Effect.succeed(HttpServerResponse.unsafeJson({ detail: "agent not found" }, { status: 404 }))
        case "AgentsRestoring":
          return Effect.succeed(
            error.reason === "owner-unavailable"
              ? retryLater("the instance that owns this agent's gateway is unavailable or moving it; retry shortly", 2)
              : error.reason === "actor-restarting"
                ? retryLater("this agent's actor failed and is being restarted from its last saved state; retry shortly", 1)
                : error.reason === "actor-failed"
                  ? retryLater("this agent's actor failed repeatedly and was stopped; it restarts when its gateway is hosted again (an operator's restart)", 60)
                  : retryLater("agent actors are still being restored after a start; retry shortly", 1)
          )
        case "AgentPersistTimeout":
          // The event was accepted and stays in the actor; it is saved once the database is back.
          return Effect.succeed(retryLater("the change was accepted but the database has not saved it yet; it will be", 5))
        case "SqlError":
          return isUniqueViolation(error)
            ? Effect.succeed(HttpServerResponse.unsafeJson({ detail: "a resource with that name already exists" }, { status: 409 }))
            : Effect.logError("database failure", error.message).pipe(Effect.as(retryLater("database unavailable", 5)))
        default: {
          const [status, detail] = domainAnswer(error)
          return Effect.succeed(HttpServerResponse.unsafeJson({ detail }, { status }))
        }
      }
    })
  )
