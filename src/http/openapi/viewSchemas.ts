import { z } from "zod"
import type { boardView, taskView } from "../views.ts"
export { ActivityView, AgentView } from "../../agents/http/AgentView.ts"
import type { Conforms, Expect } from "./conforms.ts"

/**
 * Response schemas of the read-model views (`src/http/views.ts`), for the OpenAPI document
 * only: handlers never parse their own answers. `Conforms` keeps their fields in step with the
 * views at compile time; test/http/openapi.test.ts checks the values against live answers.
 */
const uuid = z.uuid()
const time = z.iso.datetime({ offset: true })
export { ErrorBody } from "./ErrorBody.ts"

export const Ok = z.object({ ok: z.literal(true) }).meta({ id: "Ok" })

export const BoardView = z
  .object({
    id: uuid,
    name: z.string(),
    gateway_id: uuid,
    board_type: z.enum(["goal", "general"]),
    objective: z.string().nullable(),
    success_metrics: z.record(z.string(), z.unknown()).nullable(),
    target_date: z.iso.date().nullable(),
    goal_confirmed: z.boolean(),
    max_agents: z.int().meta({ description: "Workers a lead may create on the board." }),
    paused: z.boolean().meta({ description: "A paused board is skipped by template sync." }),
    created_at: time,
    updated_at: time
  })
  .meta({ id: "Board" })

export const TaskView = z
  .object({
    id: uuid,
    board_id: uuid,
    title: z.string(),
    status: z.enum(["inbox", "in_progress", "review", "done"]),
    assigned_agent_id: uuid.nullable(),
    created_at: time,
    updated_at: time
  })
  .meta({ id: "Task" })

/** `{items, total}` of a list that is not paginated. */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.int() })

/** `{items, total, limit, offset}` of a paginated list. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.int(), limit: z.int(), offset: z.int() })

/** Compile-time: each schema names exactly the fields its view returns. */
export type ViewsConform = [
  Expect<Conforms<ReturnType<typeof boardView>, typeof BoardView>>,
  Expect<Conforms<ReturnType<typeof taskView>, typeof TaskView>>,
]
