import { Effect } from "effect"
import { z } from "zod"
import type { SyncJobOptions } from "../../store/SyncJobRepo.ts"
import { invalid } from "../../http/ApiError.ts"
import { uuid } from "../../http/contract.ts"

/**
 * The template sync contract (`POST /api/v1/gateways/{id}/templates/sync`, docs/operations.md
 * §6.8): Mission Control's query flags, also accepted as a JSON body. Unknown names are refused, so
 * a misspelt flag is a 422 rather than a silent default.
 */
const flag = (description: string) => z.stringbool().optional().meta({ description: `${description} \`true\` or \`false\`; also accepted in the JSON body.` })

export const SyncQuery = z.strictObject({
  include_main: flag("Also sync the gateway-main agent (default true)."),
  lead_only: flag("Only board leads."),
  reset_sessions: flag("Reset each agent's session."),
  rotate_tokens: flag("Mint a new token for every agent."),
  force_bootstrap: flag("Write BOOTSTRAP.md again."),
  overwrite: flag("Overwrite files agents may edit (USER.md, MEMORY.md)."),
  board_id: uuid.optional().meta({ description: "Only this board's agents." })
})

export const SyncBody = z.strictObject({
  include_main: z.boolean().optional(),
  lead_only: z.boolean().optional(),
  reset_sessions: z.boolean().optional(),
  rotate_tokens: z.boolean().optional(),
  force_bootstrap: z.boolean().optional(),
  overwrite: z.boolean().optional(),
  board_id: uuid.nullable().optional()
})

export const SyncJobParams = z.object({ id: uuid, job: uuid })

/** `GET /api/v1/templates/sync/jobs`: how many of the newest jobs. */
export const SyncJobListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: "How many jobs, 1–100 (default 20)." }) })

/** Defaults as in Mission Control: only `include_main` is on (docs/operations.md §6.8). */
const DEFAULTS = { include_main: true, lead_only: false, reset_sessions: false, rotate_tokens: false, force_bootstrap: false, overwrite: false } as const
type FlagName = keyof typeof DEFAULTS

/**
 * The job's options from the query and the body; a flag given in both with different values is
 * a 422 (which one was meant is not ours to guess).
 */
export const syncOptions = (query: z.infer<typeof SyncQuery>, body: z.infer<typeof SyncBody>) => {
  const names = [...(Object.keys(DEFAULTS) as Array<FlagName>), "board_id" as const]
  const clashes = names.filter((name) => query[name] !== undefined && body[name] !== undefined && query[name] !== body[name])
  if (clashes.length > 0) return Effect.fail(invalid(`given in both the query and the body with different values: ${clashes.join(", ")}`))
  const flag = (name: FlagName) => body[name] ?? query[name] ?? DEFAULTS[name]
  return Effect.succeed<SyncJobOptions>({
    includeMain: flag("include_main"),
    leadOnly: flag("lead_only"),
    resetSessions: flag("reset_sessions"),
    rotateTokens: flag("rotate_tokens"),
    forceBootstrap: flag("force_bootstrap"),
    overwrite: flag("overwrite"),
    boardId: body.board_id ?? query.board_id ?? null
  })
}
