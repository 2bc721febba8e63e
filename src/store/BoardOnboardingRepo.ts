import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"

/** One turn of the onboarding conversation: `user` is what was sent to the main agent, `assistant` what it posted back. */
export interface OnboardingTurn {
  readonly role: "user" | "assistant"
  readonly content: string
  /** ISO time. */
  readonly timestamp: string
}

/** A board's onboarding conversation with its gateway's main agent (migration 0009), camelCase. */
export interface BoardOnboardingRow {
  readonly boardId: string
  readonly mainAgentId: string | null
  readonly status: "active" | "completed"
  readonly messages: ReadonlyArray<OnboardingTurn>
  /** The main agent's `complete` payload (board goal, user profile, lead draft), once posted. */
  readonly draftGoal: unknown
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface BoardOnboardingRepoShape {
  readonly get: (boardId: string) => Effect.Effect<Option.Option<BoardOnboardingRow>, SqlError>
  /**
   * Starts the board's onboarding with `first` as its first turn, unless one is already
   * `active`: then that one is returned with `started: false` (docs/operations.md §6.11).
   * A `completed` one is replaced. Concurrent starts: exactly one gets `started: true`.
   */
  readonly start: (boardId: string, mainAgentId: string, first: OnboardingTurn) => Effect.Effect<{ readonly row: BoardOnboardingRow; readonly started: boolean }, SqlError>
  /** Appends a turn; with `draftGoal`, the conversation is `completed` with it. None when the board has no onboarding. */
  readonly append: (boardId: string, turn: OnboardingTurn, completion?: { readonly draftGoal: unknown }) => Effect.Effect<Option.Option<BoardOnboardingRow>, SqlError>
}

/** Board onboarding state (docs/operations.md §6.11), minimal: one conversation per board. */
export class BoardOnboardingRepo extends Context.Tag("switchyard/BoardOnboardingRepo")<BoardOnboardingRepo, BoardOnboardingRepoShape>() {}

export const BoardOnboardingRepoLive = Layer.effect(
  BoardOnboardingRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const get = (boardId: string) => sql<BoardOnboardingRow>`select * from board_onboarding where board_id = ${boardId}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))
    return BoardOnboardingRepo.of({
      get,
      start: (boardId, mainAgentId, first) =>
        Effect.gen(function* () {
          const messages = JSON.stringify([first])
          const claimed = yield* sql<BoardOnboardingRow>`
            insert into board_onboarding (board_id, main_agent_id, status, messages) values (${boardId}, ${mainAgentId}, 'active', ${messages}::jsonb)
            on conflict (board_id) do update set main_agent_id = excluded.main_agent_id, status = 'active', messages = excluded.messages,
              draft_goal = null, created_at = now(), updated_at = now()
            where board_onboarding.status <> 'active'
            returning *`
          if (claimed[0] !== undefined) return { row: claimed[0], started: true }
          const active = yield* get(boardId)
          if (Option.isSome(active)) return { row: active.value, started: false }
          return yield* Effect.dieMessage(`board ${boardId}: onboarding neither started nor found`)
        }),
      append: (boardId, turn, completion) => {
        const entry = JSON.stringify([turn])
        const complete = completion === undefined ? sql`` : sql`, status = 'completed', draft_goal = ${JSON.stringify(completion.draftGoal)}::jsonb`
        return sql<BoardOnboardingRow>`update board_onboarding set messages = messages || ${entry}::jsonb, updated_at = now() ${complete}
          where board_id = ${boardId} returning *`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))
      }
    })
  })
)
