import { z } from "zod"
import type { Shape } from "../../http/Endpoint.ts"
import type { BoardRow } from "../../store/BoardRepo.ts"
import type { TaskRow } from "../../store/TaskRepo.ts"
import { Stamps, stampsOf } from "../../http/timestamps.ts"
import { BoardType } from "./boardRequests.ts"

const uuid = z.uuid()
export const BoardView = z
  .object({
    id: uuid,
    name: z.string(),
    gateway_id: uuid,
    board_type: BoardType,
    objective: z.string().nullable(),
    success_metrics: z.record(z.string(), z.unknown()).nullable(),
    target_date: z.iso.date().nullable(),
    goal_confirmed: z.boolean(),
    max_agents: z.int().meta({ description: "Workers a lead may create on the board." }),
    paused: z.boolean().meta({ description: "A paused board is skipped by template sync." }),
    ...Stamps
  })
  .meta({ id: "Board" })

export const boardView = (row: BoardRow): Shape<typeof BoardView> => ({
  id: row.id,
  name: row.name,
  gateway_id: row.gatewayId,
  board_type: row.boardType,
  objective: row.objective,
  success_metrics: row.successMetrics,
  target_date: row.targetDate,
  goal_confirmed: row.goalConfirmed,
  max_agents: row.maxAgents,
  paused: row.paused,
  ...stampsOf(row)
})

export const TaskView = z
  .object({
    id: uuid,
    board_id: uuid,
    title: z.string(),
    status: z.enum(["inbox", "in_progress", "review", "done"]),
    assigned_agent_id: uuid.nullable(),
    ...Stamps
  })
  .meta({ id: "Task" })

export const taskView = (row: TaskRow): Shape<typeof TaskView> => ({
  id: row.id,
  board_id: row.boardId,
  title: row.title,
  status: row.status,
  assigned_agent_id: row.assignedAgentId,
  ...stampsOf(row)
})

export const Ok = z.object({ ok: z.literal(true) }).meta({ id: "Ok" })
