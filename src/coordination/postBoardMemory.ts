import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { MessageLedger, type MessageSender } from "../messages/MessageLedger.ts"
import { AgentRepo, type AgentRow } from "../store/AgentRepo.ts"
import { BoardMemoryRepo, type BoardMemoryRow } from "../store/BoardMemoryRepo.ts"
import { BoardRepo, type BoardRow } from "../store/BoardRepo.ts"
import type { MessageRow } from "../store/MessageRepo.ts"
import { boardFor, type Actor } from "./callerScope.ts"
import { mentionedAgents } from "./mentions.ts"
import { boardChatText } from "./messageTexts.ts"

export interface MemoryPost {
  readonly actor: Actor
  readonly boardId: string
  readonly content: string
  readonly tags: ReadonlyArray<string>
  readonly source?: string | undefined
  readonly idempotencyKey?: string | undefined
}

/** Board commands relayed verbatim to every agent of the board (docs/operations.md §6.11). */
const COMMANDS = new Set(["/pause", "/resume"])
/** More agents than any board has; the cap keeps one query bounded. */
const BOARD_AGENTS_LIMIT = 1_000

const nameOf = (actor: Actor) => (actor.kind === "agent" ? actor.agent.name : "admin")
const senderOf = (actor: Actor): MessageSender => (actor.kind === "agent" ? { kind: "agent", agentId: actor.agent.id } : { kind: "admin" })

/**
 * Chat fan-out of one entry (docs/operations.md §6.11): exact `/pause` or
 * `/resume` (trimmed, any case) sets the board's `paused` flag and goes verbatim, `deliver:
 * true`, to every agent of the board; anything else goes as "BOARD CHAT" to the lead and as
 * "BOARD CHAT MENTION" to each @mentioned agent of the board. Never to the author. Each is a
 * ledger message keyed by the entry and the target, so a replay of the post sends nothing twice
 * (and, for a command, leaves the flag as later commands set it).
 */
const fanOut = (board: BoardRow, entry: BoardMemoryRow, actor: Actor, fresh: boolean) =>
  Effect.gen(function* () {
    const agents = (yield* Effect.flatMap(AgentRepo, (repo) => repo.list({ boardId: board.id, limit: BOARD_AGENTS_LIMIT, offset: 0 }))).items
    const authorId = actor.kind === "agent" ? actor.agent.id : undefined
    const command = entry.content.trim().toLowerCase()
    const { baseUrl } = yield* AppConfig
    let targets: ReadonlyArray<{ readonly agent: AgentRow; readonly kind: string; readonly body: string; readonly deliver: boolean }>
    if (COMMANDS.has(command)) {
      // A replay must not undo a later command: only the first post sets the flag.
      if (fresh) yield* Effect.flatMap(BoardRepo, (repo) => repo.update(board.id, { paused: command === "/pause" }))
      targets = agents.map((agent) => ({ agent, kind: "board_command", body: command, deliver: true }))
    } else {
      const mentioned = mentionedAgents(entry.content, agents)
      targets = agents
        .filter((agent) => agent.role === "lead" || mentioned.has(agent.id))
        .map((agent) => ({ agent, kind: "board_chat", body: boardChatText(baseUrl, board, entry.source ?? nameOf(actor), entry.content, mentioned.has(agent.id)), deliver: false }))
    }
    const ledger = yield* MessageLedger
    return yield* Effect.forEach(
      targets.filter((target) => target.agent.id !== authorId),
      (target) =>
        ledger
          .send({
            targetAgentId: target.agent.id,
            sender: senderOf(actor),
            kind: target.kind,
            channel: "gateway",
            body: target.body,
            deliver: target.deliver,
            idempotencyKey: `board-memory:${entry.id}:${target.agent.id}`
          })
          .pipe(Effect.map((sent) => sent.message)),
      { concurrency: 8 }
    )
  })

/**
 * Writes a board memory entry (`POST /api/v1/boards/{id}/memory`, docs/operations.md §6.11) as
 * the admin, an agent of the board, or the gateway-main agent of its gateway. The `chat` tag
 * makes it board chat (`source` defaults to the author's name) and fans it out (`fanOut`). A
 * replayed `idempotencyKey` from the same author returns the first entry; its fan-out is
 * re-run, which the ledger answers with the messages already sent. Output: the entry, whether
 * it was a replay, and the ledger messages. Errors: CoordinationRefused (403/404),
 * IdempotencyConflict, MessageTargetNotFound, SqlError.
 */
export const postBoardMemory = Effect.fn("Coordination.postMemory")(function* (post: MemoryPost) {
  const board = yield* boardFor(post.actor, post.boardId)
  const isChat = post.tags.includes("chat")
  const { row, inserted } = yield* Effect.flatMap(BoardMemoryRepo, (repo) =>
    repo.insert({
      id: randomUUID(),
      boardId: board.id,
      content: post.content,
      tags: post.tags,
      isChat,
      source: post.source ?? (isChat ? nameOf(post.actor) : null),
      authorKind: post.actor.kind,
      authorAgentId: post.actor.kind === "agent" ? post.actor.agent.id : null,
      idempotencyKey: post.idempotencyKey ?? null
    })
  )
  const messages: ReadonlyArray<MessageRow> = row.isChat ? yield* fanOut(board, row, post.actor, inserted) : []
  return { memory: row, replayed: !inserted, messages }
})
