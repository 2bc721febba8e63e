import { Clock, Effect, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { MessageLedger } from "../messages/MessageLedger.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import { BoardOnboardingRepo, type OnboardingTurn } from "../store/BoardOnboardingRepo.ts"
import { boardFor, mainAgentOf, requireMain } from "./callerScope.ts"
import { notFound } from "./CoordinationErrors.ts"
import { onboardingPromptText } from "./messageTexts.ts"

const turn = (role: OnboardingTurn["role"], content: string) =>
  Effect.map(Clock.currentTimeMillis, (now): OnboardingTurn => ({ role, content, timestamp: new Date(now).toISOString() }))

const existing = (boardId: string) =>
  Effect.flatMap(BoardOnboardingRepo, (repo) => repo.get(boardId)).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(notFound("onboarding for this board")), onSome: Effect.succeed }))
  )

/**
 * Starts a board's onboarding (`POST /api/v1/boards/{id}/onboarding/start`, docs/operations.md
 * §6.11): the "BOARD ONBOARDING REQUEST" prompt goes to the gateway-main session as a ledger
 * message (`onboarding_start`, `deliver: false`). While one is `active`, starting again returns it
 * and its prompt message (the ledger key is fixed per conversation), sending nothing. Output: the
 * onboarding and the ledger send. Errors: CoordinationRefused (404 board, 422 no main agent),
 * IdempotencyConflict, SqlError.
 */
export const startOnboarding = Effect.fn("Coordination.startOnboarding")(function* (boardId: string) {
  const board = yield* boardFor({ kind: "admin" }, boardId)
  const main = yield* mainAgentOf(board)
  const { baseUrl } = yield* AppConfig
  const { row } = yield* Effect.flatMap(BoardOnboardingRepo, (repo) =>
    Effect.flatMap(turn("user", onboardingPromptText(baseUrl, board)), (first) => repo.start(board.id, main.id, first))
  )
  const sent = yield* Effect.flatMap(MessageLedger, (ledger) =>
    ledger.send({
      targetAgentId: row.mainAgentId ?? main.id,
      sender: { kind: "admin" },
      kind: "onboarding_start",
      channel: "gateway",
      body: row.messages[0]?.content ?? onboardingPromptText(baseUrl, board),
      idempotencyKey: `onboarding-start:${board.id}:${row.createdAt.toISOString()}`
    })
  )
  return { onboarding: row, sent }
})

/**
 * Forwards the user's answer to the main session (`POST /api/v1/boards/{id}/onboarding/answer`,
 * docs/operations.md §6.11): `answer`, or `answer: other_text`, as a ledger message
 * (`onboarding_answer`) and a `user` turn. Errors: CoordinationRefused (404 board or no onboarding,
 * 422 no main agent), IdempotencyConflict, SqlError.
 */
export const answerOnboarding = Effect.fn("Coordination.answerOnboarding")(function* (input: {
  readonly boardId: string
  readonly answer: string
  readonly otherText?: string | undefined
  readonly idempotencyKey?: string | undefined
}) {
  const board = yield* boardFor({ kind: "admin" }, input.boardId)
  const current = yield* existing(board.id)
  const main = current.mainAgentId === null ? yield* mainAgentOf(board) : { id: current.mainAgentId }
  const text = input.otherText === undefined || input.otherText.trim() === "" ? input.answer : `${input.answer}: ${input.otherText}`
  const sent = yield* Effect.flatMap(MessageLedger, (ledger) =>
    ledger.send({ targetAgentId: main.id, sender: { kind: "admin" }, kind: "onboarding_answer", channel: "gateway", body: text, idempotencyKey: input.idempotencyKey })
  )
  const updated = sent.replayed ? Option.some(current) : yield* Effect.flatMap(BoardOnboardingRepo, (repo) => Effect.flatMap(turn("user", text), (next) => repo.append(board.id, next)))
  return { onboarding: Option.getOrElse(updated, () => current), sent }
})

/**
 * The main agent posts a question or its completion (`POST
 * /api/v1/agent/boards/{id}/onboarding`, docs/operations.md §6.11): main only, for a board of its
 * gateway; the payload is stored as an `assistant` turn, and a `complete` one becomes the draft
 * goal with status `completed`. Errors: CoordinationRefused (403 not main / other gateway, 404
 * board or no onboarding), SqlError.
 */
export const recordOnboardingReply = Effect.fn("Coordination.onboardingReply")(function* (input: {
  readonly caller: AgentRow
  readonly boardId: string
  readonly payload: Readonly<Record<string, unknown>>
}) {
  yield* requireMain(input.caller, "post onboarding updates")
  const board = yield* boardFor({ kind: "agent", agent: input.caller }, input.boardId)
  yield* existing(board.id)
  const complete = input.payload["status"] === "complete"
  const updated = yield* Effect.flatMap(BoardOnboardingRepo, (repo) =>
    Effect.flatMap(turn("assistant", JSON.stringify(input.payload)), (next) => repo.append(board.id, next, complete ? { draftGoal: input.payload } : undefined))
  )
  return yield* Option.match(updated, { onNone: () => Effect.fail(notFound("onboarding for this board")), onSome: Effect.succeed })
})
