import { z } from "zod"
import type { activityView, agentView, boardView, taskView } from "../views.ts"
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

const StepError = z
  .object({
    tag: z.string().meta({ description: "The typed error's `_tag`, e.g. `GatewayRpcError`." }),
    message: z.string(),
    transient: z.boolean(),
    retryAfterMs: z.number().optional(),
    step: z.enum(["apply", "wake", "remove"]),
    at: z.number().meta({ description: "Epoch ms." })
  })
  .meta({ id: "StepError", description: "The last failure of a lifecycle step." })

export const AgentView = z
  .object({
    id: uuid,
    name: z.string(),
    board_id: uuid.nullable(),
    gateway_id: uuid,
    role: z.enum(["main", "lead", "worker"]),
    is_board_lead: z.boolean(),
    is_gateway_main: z.boolean(),
    gateway_agent_id: z.string().meta({ example: "mc-3f0c9a2e-8b1d-4c55-9e1a-0d2b7c4e6f10" }),
    session_key: z.string(),
    status: z.string().meta({ description: "Top-level state: provisioning, online, updating, offline, deleting or deleted." }),
    state: z.string().meta({ description: "Full state path of the agent machine.", example: "provisioning.awaiting" }),
    last_seen_at: time.nullable(),
    last_error: StepError.nullable(),
    offline_reason: z.string().nullable(),
    heartbeat_config: z.object({ every: z.string(), target: z.string() }).loose(),
    identity_profile: z.record(z.string(), z.union([z.string(), z.array(z.string()), z.null()])).nullable(),
    identity_template: z.string().nullable(),
    soul_template: z.string().nullable(),
    version: z.int().meta({ description: "Snapshot version; grows with every transition." }),
    lifecycle: z
      .object({
        generation: z.int(),
        attempts: z.int(),
        wake_attempts: z.int(),
        deadline_at: time.nullable().meta({ description: "Next retry, check-in or offline deadline." }),
        reported_status: z.string().nullable(),
        token_source: z.enum(["minted", "recovered", "mismatch", "missing"]).nullable()
      })
      .optional()
      .meta({ description: "Why the agent is where it is (with the snapshot)." }),
    created_at: time,
    updated_at: time
  })
  .meta({ id: "Agent", description: "An agent from its persisted read model." })

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

export const ActivityView = z
  .object({
    id: z.int(),
    event_type: z.string().meta({ example: "agent.status.online" }),
    message: z.string(),
    agent_id: uuid.nullable(),
    board_id: uuid.nullable(),
    gateway_id: uuid.nullable(),
    created_at: time
  })
  .meta({ id: "Activity" })

/** `{items, total}` of a list that is not paginated. */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.int() })

/** `{items, total, limit, offset}` of a paginated list. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.int(), limit: z.int(), offset: z.int() })

/** Compile-time: each schema names exactly the fields its view returns. */
export type ViewsConform = [
  Expect<Conforms<ReturnType<typeof boardView>, typeof BoardView>>,
  Expect<Conforms<ReturnType<typeof agentView>, typeof AgentView>>,
  Expect<Conforms<ReturnType<typeof taskView>, typeof TaskView>>,
  Expect<Conforms<ReturnType<typeof activityView>, typeof ActivityView>>
]
