import { z } from "zod"

/** A time as every answer writes it: ISO 8601 with its offset (docs/operations.md §6.12). */
export const time = z.iso.datetime({ offset: true })

/** The `created_at` and `updated_at` of a stored row: spread as the last fields of its view's schema. */
export const Stamps = { created_at: time, updated_at: time }

/** The `Stamps` of a row: spread as the last fields of its view. */
export const stampsOf = (row: { readonly createdAt: Date; readonly updatedAt: Date }) => ({ created_at: row.createdAt.toISOString(), updated_at: row.updatedAt.toISOString() })
