import type { SqlError } from "@effect/sql/SqlError"

/** Postgres `unique_violation` (SQLSTATE 23505), e.g. a duplicate agent name on a board. */
export const isUniqueViolation = (error: SqlError): boolean =>
  typeof error.cause === "object" && error.cause !== null && "code" in error.cause && error.cause.code === "23505"

/** The SQLSTATE of the Postgres error behind `error`, if it came from the server. */
const sqlState = (error: SqlError): string | undefined =>
  typeof error.cause === "object" && error.cause !== null && "code" in error.cause && typeof error.cause.code === "string" ? error.cause.code : undefined

/**
 * Whether a statement written for several calls failed because of what one call brought, so the
 * calls made again one by one would fail only that one's (docs/architecture.md §5.2 step 6): a
 * data exception (class 22, e.g. a malformed id), an integrity violation (class 23, e.g. a row's
 * agent gone, 23503), a row affected twice (21000), or a deadlock with another statement over
 * some of its rows (40P01). Not a lost or refused connection (08, 57P0x), a cancelled statement
 * (57014, the statement timeout), a pool that gave no connection in time, or any error without a
 * SQLSTATE: those are every call's.
 */
export const belongsToOneCall = (error: SqlError): boolean => {
  const code = sqlState(error)
  return code !== undefined && (code.startsWith("22") || code.startsWith("23") || code === "21000" || code === "40P01")
}
