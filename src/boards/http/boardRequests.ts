import { z } from "zod"
import { name } from "../../http/contract.ts"

/** Request schemas of `/api/v1/boards` and their tasks. Types are inferred. */
const uuid = z.uuid()

/** A board's goal and settings (docs/operations.md §6.15); all optional, database defaults apply. */
const boardFields = {
  board_type: z.enum(["goal", "general"]).optional(),
  objective: z.string().trim().max(4_000).nullable().optional(),
  success_metrics: z.record(z.string(), z.unknown()).nullable().optional(),
  target_date: z.iso.date().nullable().optional(),
  goal_confirmed: z.boolean().optional(),
  max_agents: z.number().int().min(0).max(1_000).optional(),
  paused: z.boolean().optional()
}

export const BoardCreate = z.strictObject({ name, gateway_id: uuid, ...boardFields })
export const BoardUpdate = z.strictObject({ name: name.optional(), ...boardFields })
export const BoardQuery = z.object({ gateway_id: uuid.optional() })

const taskStatus = z.enum(["inbox", "in_progress", "review", "done"])

export const TaskParams = z.object({ id: uuid, task_id: uuid })
export const TaskCreate = z.strictObject({ title: z.string().trim().min(1).max(500), status: taskStatus.default("inbox"), assigned_agent_id: uuid.nullable().default(null) })
export const TaskUpdate = z.strictObject({ title: z.string().trim().min(1).max(500).optional(), status: taskStatus.optional(), assigned_agent_id: uuid.nullable().optional() })
export const TaskQuery = z.object({ status: taskStatus.optional(), assigned_agent_id: uuid.optional() })
