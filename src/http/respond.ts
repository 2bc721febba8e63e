import { HttpServerResponse } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { AgentNotFound } from "../agents/AgentSystem.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"
import type { ApiError } from "./ApiError.ts"

export const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

type KnownError = ApiError | AgentNotFound | SqlError

/**
 * Turns a handler's typed failure into an answer: ApiError as given, a missing actor as 404,
 * a unique violation as 409, any other database failure as 503. Nothing secret is echoed.
 */
export const handle = <R>(effect: Effect.Effect<HttpServerResponse.HttpServerResponse, KnownError, R>) =>
  effect.pipe(
    Effect.catchAll((error) => {
      switch (error._tag) {
        case "ApiError":
          return Effect.succeed(json({ detail: error.detail, ...(error.errors === undefined ? {} : { errors: error.errors }) }, error.status))
        case "AgentNotFound":
          return Effect.succeed(json({ detail: "agent not found" }, 404))
        case "SqlError":
          return isUniqueViolation(error)
            ? Effect.succeed(json({ detail: "a resource with that name already exists" }, 409))
            : Effect.logError("database failure", error.message).pipe(Effect.as(json({ detail: "database unavailable" }, 503)))
      }
    })
  )
