import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import type { z } from "zod"
import { ApiError } from "./ApiError.ts"

const toApiError = (where: string, error: z.ZodError) =>
  new ApiError({
    status: 422,
    detail: `invalid ${where}: ${error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}`,
    errors: error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }))
  })

const parse = <S extends z.ZodType>(schema: S, where: string, value: unknown) => {
  const result = schema.safeParse(value)
  return result.success ? Effect.succeed(result.data as z.infer<S>) : Effect.fail(toApiError(where, result.error))
}

/** The JSON body decoded with `schema`; malformed JSON or a schema mismatch is a 422. */
export const decodeBody = <S extends z.ZodType>(schema: S) =>
  HttpServerRequest.HttpServerRequest.pipe(
    Effect.flatMap((request) => request.text),
    Effect.mapError(() => new ApiError({ status: 400, detail: "could not read the request body" })),
    Effect.flatMap((text) =>
      Effect.try({ try: () => (text.trim() === "" ? {} : (JSON.parse(text) as unknown)), catch: () => new ApiError({ status: 422, detail: "request body is not valid JSON" }) })
    ),
    Effect.flatMap((body) => parse(schema, "body", body))
  )

/** The query string decoded with `schema` (values are strings; use `z.coerce`). */
export const decodeQuery = <S extends z.ZodType>(schema: S) =>
  Effect.flatMap(HttpServerRequest.ParsedSearchParams, (query) => parse(schema, "query", query))

/** The path parameters decoded with `schema`. */
export const decodeParams = <S extends z.ZodType>(schema: S) => Effect.flatMap(HttpRouter.params, (params) => parse(schema, "path", params))
