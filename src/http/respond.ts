import { HttpServerResponse } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { AgentNotFound, AgentPersistTimeout, AgentsRestoring } from "../agents/AgentSystemErrors.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"
import type { ApiError } from "./ApiError.ts"

export const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

/** 503 with `Retry-After` (s). */
const retryLater = (detail: string, seconds: number) =>
  HttpServerResponse.unsafeJson({ detail }, { status: 503, headers: { "retry-after": String(seconds) } })

export type KnownError = ApiError | AgentNotFound | AgentsRestoring | AgentPersistTimeout | SqlError

/**
 * Turns a handler's typed failure into an answer: ApiError as given, a missing actor as 404,
 * actors still restoring or a snapshot not yet saved as 503 with `Retry-After`, a unique
 * violation as 409, any other database failure (down, hung past its timeouts) as 503 with
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
          return Effect.succeed(json({ detail: "agent not found" }, 404))
        case "AgentsRestoring":
          return Effect.succeed(
            error.reason === "owner-unavailable"
              ? retryLater("the instance that owns this agent's gateway is unavailable or moving it; retry shortly", 2)
              : retryLater("agent actors are still being restored after a start; retry shortly", 1)
          )
        case "AgentPersistTimeout":
          // The event was accepted and stays in the actor; it is saved once the database is back.
          return Effect.succeed(retryLater("the change was accepted but the database has not saved it yet; it will be", 5))
        case "SqlError":
          return isUniqueViolation(error)
            ? Effect.succeed(json({ detail: "a resource with that name already exists" }, 409))
            : Effect.logError("database failure", error.message).pipe(Effect.as(retryLater("database unavailable", 5)))
      }
    })
  )
