import { z } from "zod"

/** `{items, total}` of a list that is not paginated. */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.int() })

/** `{items, total, limit, offset}` of a paginated list. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.int(), limit: z.int(), offset: z.int() })
