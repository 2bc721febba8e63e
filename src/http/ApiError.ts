import { Data } from "effect"

/**
 * An answer other than success: the HTTP status and a message for humans (`detail`), in
 * the error shape `{ detail }` (docs/operations.md §6.12). Bad input is 422 and changes nothing.
 */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 502 | 503
  readonly detail: string
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }> | undefined
  /** Extra answer headers, e.g. `Retry-After` on a 429. */
  readonly headers?: Readonly<Record<string, string>> | undefined
}> {}

export const notFound = (what: string) => new ApiError({ status: 404, detail: `${what} not found` })
export const conflict = (detail: string) => new ApiError({ status: 409, detail })
export const invalid = (detail: string) => new ApiError({ status: 422, detail })
