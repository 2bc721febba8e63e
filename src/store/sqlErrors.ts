import type { SqlError } from "@effect/sql/SqlError"

/** Postgres `unique_violation` (SQLSTATE 23505), e.g. a duplicate agent name on a board. */
export const isUniqueViolation = (error: SqlError): boolean =>
  typeof error.cause === "object" && error.cause !== null && "code" in error.cause && error.cause.code === "23505"
