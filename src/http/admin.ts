import type { HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { requireAdmin } from "./auth.ts"
import { handle, type KnownError } from "./respond.ts"

/** An admin-only route: `Authorization: Bearer <admin token>` first (401/403), then `body`; failures become answers. */
export const admin = <R>(body: Effect.Effect<HttpServerResponse.HttpServerResponse, KnownError, R>) => handle(Effect.zipRight(requireAdmin, body))
