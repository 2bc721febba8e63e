import { HttpRouter } from "@effect/platform"
import { Effect, Option } from "effect"
import { answerOnboarding, recordOnboardingReply, startOnboarding } from "../../coordination/onboarding.ts"
import { BoardOnboardingRepo, type BoardOnboardingRow } from "../../store/BoardOnboardingRepo.ts"
import { admin } from "../admin.ts"
import { notFound } from "../ApiError.ts"
import { IdParams } from "../contract.ts"
import { answerSend, asAgent, idempotencyKeyHeader, withCoordinationAnswers } from "../coordinationAnswers.ts"
import { BoardParams, DeliveryWaitQuery, OnboardingAgentBody, OnboardingAnswerBody } from "../coordinationContract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { existingBoard } from "../lookups.ts"
import { json } from "../respond.ts"

/** A board's onboarding as the API shows it. */
export const onboardingView = (row: BoardOnboardingRow) => ({
  board_id: row.boardId,
  main_agent_id: row.mainAgentId,
  status: row.status,
  messages: row.messages,
  draft_goal: row.draftGoal,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString()
})

/**
 * Board onboarding dispatch (docs/operations.md §6.11): the admin starts it (the prompt goes to the
 * gateway-main session) and forwards the user's answers; the main agent posts its questions and its
 * completion back. Messages to the main agent go through the ledger; confirming the draft into the
 * board goal is left to the admin's `PATCH /api/v1/boards/{id}`.
 */
export const onboardingRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/boards/:id/onboarding",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        yield* existingBoard(id)
        const row = yield* Effect.flatMap(BoardOnboardingRepo, (repo) => repo.get(id))
        if (Option.isNone(row)) return yield* notFound("onboarding for this board")
        return json(onboardingView(row.value))
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/boards/:id/onboarding/start",
    admin(
      withCoordinationAnswers(
        Effect.gen(function* () {
          const { id } = yield* decodeParams(IdParams)
          const { wait_ms } = yield* decodeQuery(DeliveryWaitQuery)
          const { onboarding, sent } = yield* startOnboarding(id)
          return yield* answerSend(sent, wait_ms, { onboarding: onboardingView(onboarding) })
        })
      )
    )
  ),
  HttpRouter.post(
    "/api/v1/boards/:id/onboarding/answer",
    admin(
      withCoordinationAnswers(
        Effect.gen(function* () {
          const { id } = yield* decodeParams(IdParams)
          const { wait_ms } = yield* decodeQuery(DeliveryWaitQuery)
          const body = yield* decodeBody(OnboardingAnswerBody)
          const idempotencyKey = yield* idempotencyKeyHeader
          const { onboarding, sent } = yield* answerOnboarding({ boardId: id, answer: body.answer, otherText: body.other_text, idempotencyKey })
          return yield* answerSend(sent, wait_ms, { onboarding: onboardingView(onboarding) })
        })
      )
    )
  ),
  HttpRouter.post(
    "/api/v1/agent/boards/:board_id/onboarding",
    asAgent((caller) =>
      Effect.gen(function* () {
        const { board_id } = yield* decodeParams(BoardParams)
        const payload = yield* decodeBody(OnboardingAgentBody)
        const row = yield* recordOnboardingReply({ caller, boardId: board_id, payload })
        return json(onboardingView(row))
      })
    )
  )
)
