import { z } from "zod"
import type { Shape } from "../../http/Endpoint.ts"
import { LedgerMessage } from "../../messages/http/MessageView.ts"
import type { BoardMemoryRow } from "../../store/BoardMemoryRepo.ts"
import type { BoardOnboardingRow } from "../../store/BoardOnboardingRepo.ts"
import { Stamps, stampsOf, time } from "../../http/timestamps.ts"

export const BoardMemory = z
  .object({
    id: z.uuid(),
    board_id: z.uuid(),
    content: z.string(),
    tags: z.array(z.string()),
    is_chat: z.boolean().meta({ description: "Tagged `chat`: board chat, sent to the lead and @mentions." }),
    source: z.string().nullable(),
    author: z.object({ kind: z.enum(["admin", "agent"]), agent_id: z.uuid().nullable() }),
    created_at: time
  })
  .meta({ id: "BoardMemory" })

/** The answer to a memory post: the entry, whether it was a replay, and the chat messages it sent. */
export const MemoryPosted = BoardMemory.extend({ replayed: z.boolean(), messages: z.array(LedgerMessage) })

export const Onboarding = z
  .object({
    board_id: z.uuid(),
    main_agent_id: z.uuid().nullable(),
    status: z.enum(["active", "completed"]),
    messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content: z.string(), timestamp: time })),
    draft_goal: z.unknown().meta({ description: "The main agent's `complete` payload, once posted." }),
    ...Stamps
  })
  .meta({ id: "BoardOnboarding" })

/** A board memory entry as the API shows it (Mission Control's shape plus who wrote it, docs/operations.md §6.12). */
export const memoryView = (row: BoardMemoryRow): Shape<typeof BoardMemory> => ({
  id: row.id,
  board_id: row.boardId,
  content: row.content,
  tags: row.tags,
  is_chat: row.isChat,
  source: row.source,
  author: { kind: row.authorKind, agent_id: row.authorAgentId },
  created_at: row.createdAt.toISOString()
})

/** A board's onboarding as the API shows it. */
export const onboardingView = (row: BoardOnboardingRow): Shape<typeof Onboarding> => ({
  board_id: row.boardId,
  main_agent_id: row.mainAgentId,
  status: row.status,
  messages: row.messages,
  draft_goal: row.draftGoal,
  ...stampsOf(row)
})

/** `PUT …/soul`: written (200) or still being written (202). */
export const SoulWritten = z.object({ ok: z.literal(true), agent_id: z.uuid(), applied: z.boolean(), state: z.string().nullable(), last_error: z.unknown() })

export const WhoAmI = z.object({
  ok: z.literal(true),
  agent_id: z.uuid(),
  name: z.string(),
  role: z.enum(["main", "lead", "worker"]),
  board_id: z.uuid().nullable(),
  gateway_id: z.uuid(),
  status: z.string(),
  is_board_lead: z.boolean(),
  is_gateway_main: z.boolean()
})

export const Broadcast = z.object({
  ok: z.literal(true),
  sent: z.int(),
  failed: z.int(),
  results: z.array(
    z.object({
      board_id: z.uuid(),
      ok: z.boolean(),
      error: z.string().nullable(),
      lead_agent_id: z.uuid().optional(),
      lead_agent_name: z.string().optional(),
      lead_created: z.boolean().optional(),
      message: LedgerMessage.optional()
    })
  )
})
