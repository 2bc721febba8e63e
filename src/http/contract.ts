import { z } from "zod"

/**
 * The request schemas every context shares (docs/operations.md §6.12): a name, an id in the path,
 * a page, an `Idempotency-Key`. Each context's own schemas are in its `http/` folder.
 */
/** One line, no markdown control characters: names are rendered into the agent's AGENTS.md. */
export const name = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(120)
  .regex(/^[^\r\n\t`|<>*#[\]\\]+$/, "must be one line without the characters ` | < > * # [ ] \\")

/**
 * An id in a request (path, query or body): a UUID in any case, lowercased, as Postgres prints
 * it. Ids name cluster entities and keys of maps as strings, so an uppercase spelling of a stored
 * id must not reach them as another id (docs/operations.md §6.12).
 */
export const uuid = z.uuid().toLowerCase()

export const IdParams = z.object({ id: uuid })

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: "Page size." }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: "Rows to skip." })
})

/** A client's `Idempotency-Key` header: one visible-ASCII token, so a retry of the same request sends once. */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, "must be 1–200 visible ASCII characters")
