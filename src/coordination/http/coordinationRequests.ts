import { z } from "zod"
import { BoardGoal } from "../../boards/http/boardRequests.ts"
import { uuid } from "../../http/contract.ts"

/**
 * The HTTP contract of the coordination API (`/api/v1/agent/*`, board memory, onboarding,
 * the lead messages): the request shapes of docs/operations.md §6.12 (roles §6.2, messages §6.11), kept apart
 * from the handlers. Types are inferred.
 */
const text = (max: number) => z.string().trim().min(1, "must not be empty").max(max)
const tag = z.string().trim().min(1).max(64)

export const BoardParams = z.object({ board_id: uuid })
export const BoardAgentParams = z.object({ board_id: uuid, agent_id: uuid })

/** `GET /agent/agents`: a board agent may name its own board only; the main agent any board of its gateway. */
export const AgentScopeQuery = z.object({
  board_id: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(200),
  offset: z.coerce.number().int().min(0).default(0)
})

export const NudgeBody = z.strictObject({ message: text(8_000) })

/** A soul write; `reason` and `source_url` go into the activity record. */
export const SoulBody = z.strictObject({
  content: text(24_000),
  reason: z.string().trim().max(2_000).optional(),
  source_url: z.url().max(2_000).optional()
})

/** Rendered into the reply instructions' JSON example, so plain tokens only: no quotes, spaces or line breaks. */
const token = z.string().trim().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1–64 letters, digits or _ . : -")

const replyRouting = {
  correlation_id: z.string().trim().max(200).regex(/^[^\r\n]*$/, "must be one line").optional(),
  reply_tags: z.array(token).min(1).max(20).optional(),
  reply_source: token.optional()
}

/** A lead's question for the user, through the gateway-main agent. */
export const AskUserBody = z.strictObject({ content: text(8_000), preferred_channel: z.string().trim().max(100).regex(/^[^\r\n]*$/, "must be one line").optional(), ...replyRouting })

/** The gateway-main agent's question or handoff to one board lead. */
export const LeadMessageBody = z.strictObject({ kind: z.enum(["question", "handoff"]).default("question"), content: text(8_000), ...replyRouting })

/** The same to many leads: every board of the gateway, or the listed ones. */
export const LeadBroadcastBody = LeadMessageBody.extend({ board_ids: z.array(uuid).min(1).max(200).optional() })

/** A board memory entry: a `chat` tag makes it board chat. */
export const MemoryBody = z.strictObject({ content: text(20_000), tags: z.array(tag).max(20).default([]), source: z.string().trim().min(1).max(200).optional() })

export const MemoryQuery = z.object({
  is_chat: z.stringbool().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(200),
  offset: z.coerce.number().int().min(0).default(0)
})

/** The user's answer to an onboarding question. */
export const OnboardingAnswerBody = z.strictObject({ answer: text(8_000), other_text: z.string().trim().max(8_000).optional() })

const OnboardingQuestion = z.strictObject({
  question: text(2_000),
  options: z.array(z.strictObject({ id: z.string().trim().min(1).max(64), label: text(500) })).max(20).default([])
})

const OnboardingComplete = z.looseObject({
  status: z.literal("complete"),
  ...BoardGoal.partial({ objective: true, success_metrics: true, target_date: true }).shape,
  user_profile: z.record(z.string(), z.unknown()).nullish(),
  lead_agent: z.record(z.string(), z.unknown()).nullish()
})

/**
 * What the main agent posts back during onboarding (docs/operations.md §6.11): one question
 * with options, or `status: "complete"` with the draft goal. A goal board needs an objective.
 */
export const OnboardingAgentBody = z.union([
  OnboardingQuestion,
  OnboardingComplete.refine((body) => body.board_type !== "goal" || (body.objective ?? "").trim() !== "", {
    message: "a goal board needs an objective",
    path: ["objective"]
  })
])
