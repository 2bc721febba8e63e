import { z } from "zod"

/** The error shape of every answer other than success (docs/operations.md §6.12). */
export const ErrorBody = z
  .object({
    detail: z.string().meta({ description: "What went wrong, for humans." }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().meta({ description: "Each invalid input (422 only)." })
  })
  .meta({ id: "Error", description: "Mission Control's error shape." })
