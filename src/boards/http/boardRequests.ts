import { z } from "zod"
import { name, uuid } from "../../http/contract.ts"

/** Request schemas of `/api/v1/boards` and their tasks. Types are inferred. */
/** The kinds of board (docs/operations.md §6.15). */
export const BoardType = z.enum(["goal", "general"])

/**
 * A board's goal as a request states it: the admin's board bodies and the main agent's finished
 * onboarding (docs/operations.md §6.11, §6.15). `null` clears a field.
 */
export const BoardGoal = z.object({
  board_type: BoardType,
  objective: z.string().trim().max(4_000).nullable(),
  success_metrics: z.record(z.string(), z.unknown()).nullable(),
  target_date: z.iso.date().nullable()
})

/** A board's goal and settings (docs/operations.md §6.15); all optional, database defaults apply. */
const BoardSettings = BoardGoal.extend({
  goal_confirmed: z.boolean(),
  max_agents: z.number().int().min(0).max(1_000),
  paused: z.boolean()
}).partial()

/** The settings a board body states; what it leaves out is not changed. */
export type BoardSettings = z.output<typeof BoardSettings>

export const BoardCreate = z.strictObject({ name, gateway_id: uuid, ...BoardSettings.shape })
export const BoardUpdate = z.strictObject({ name: name.optional(), ...BoardSettings.shape })
export const BoardQuery = z.object({ gateway_id: uuid.optional() })

const taskStatus = z.enum(["inbox", "in_progress", "review", "done"])

export const TaskParams = z.object({ id: uuid, task_id: uuid })
export const TaskCreate = z.strictObject({ title: z.string().trim().min(1).max(500), status: taskStatus.default("inbox"), assigned_agent_id: uuid.nullable().default(null) })
export const TaskUpdate = z.strictObject({ title: z.string().trim().min(1).max(500).optional(), status: taskStatus.optional(), assigned_agent_id: uuid.nullable().optional() })
export const TaskQuery = z.object({ status: taskStatus.optional(), assigned_agent_id: uuid.optional() })
